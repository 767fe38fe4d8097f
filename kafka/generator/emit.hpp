#pragma once
// What the generator writes: for each API with a full codec, one header and one source holding
// its request and response structs (one struct per message, covering every version); and for
// all APIs, the table of keys, names and versions, and the dispatch over the full codecs.

#include <string>
#include <vector>

#include "schema.hpp"

namespace nodus::kafka::codegen {

// An API with a full codec: its name without "Request"/"Response", and both messages.
struct api_messages {
  std::string name;  // e.g. Metadata
  message request, response;
};

// nodus/kafka/generated/<api>.hpp and the matching .cpp.
result_or_failure<std::string> emit_api_header(const api_messages& api);
result_or_failure<std::string> emit_api_source(const api_messages& api);

// nodus/kafka/generated/messages.hpp (the body variants, the API key enum) and the .cpp (the
// table of every API and the dispatch of bodies to the full codecs).
std::string emit_messages_header(const std::vector<api_messages>& full, const std::vector<message>& all);
std::string emit_messages_source(const std::vector<api_messages>& full, const std::vector<message>& all);

}  // namespace nodus::kafka::codegen
