#pragma once
// Apache Kafka's message definitions (clients/src/main/resources/common/message/*.json) as the
// generator reads them: messages, their fields with version ranges, and the structs they nest.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nodus/core/failure.hpp"

namespace nodus::kafka::codegen {

// A version range as the schema writes it: "3", "3+", "0-5" or "none".
struct versions {
  int lo = -1;  // -1: none
  int hi = -1;  // highest_version for "N+"
  static constexpr int highest_version = 0x7fff;

  bool none() const { return lo < 0; }
  bool open_ended() const { return hi == highest_version; }
  // A C++ condition on the variable `ver`, e.g. "ver >= 3", "true", "false".
  std::string condition() const;
};

struct field {
  std::string name;  // the schema's, e.g. "TopicId"
  std::string type;  // "int32", "[]string", "[]MetadataResponseTopic", "records", ...
  std::string about;
  versions present, nullable, tagged;
  std::optional<versions> flexible;  // the field's own flexibleVersions, when it has one
  std::optional<std::uint32_t> tag;
  std::optional<std::string> default_value;
  std::vector<field> fields;  // an inline struct's
};

struct struct_def {
  std::string name;  // the schema's type name
  std::vector<field> fields;
};

struct message {
  std::string file;  // e.g. MetadataRequest.json
  std::string name;  // e.g. MetadataRequest
  std::string type;  // request, response, header, data, metadata
  std::optional<int> api_key;
  versions valid, flexible;
  std::vector<field> fields;
  std::vector<struct_def> common_structs;
};

// Reads one schema file: its `//` comments are dropped, then nodus::json parses the rest.
result_or_failure<message> load_message(const std::string& path);

// "MetadataResponseTopic" -> "metadata_response_topic"; C++ keywords get a trailing '_'.
std::string snake_case(const std::string& name);

}  // namespace nodus::kafka::codegen
