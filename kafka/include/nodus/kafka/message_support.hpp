#pragma once
/// The vocabulary the generated Kafka messages (nodus/kafka/generated/*.hpp) are made of: topic
/// IDs, tagged fields this build does not know, the decoder's limits, and what a visitor is told
/// about each field.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/json.hpp"

namespace nodus::kafka {

/// A Kafka UUID (topic IDs): 16 bytes, all zero meaning "none" (`Uuid.ZERO_UUID`).
struct uuid {
  std::array<std::uint8_t, 16> bytes{};

  /// The canonical text, e.g. `1ccdacc3-8e13-4747-b680-0d12418ed2de`.
  std::string to_string() const;
  /// All zero.
  bool is_zero() const noexcept;
  friend bool operator==(const uuid&, const uuid&) = default;
};

/// A tagged field whose tag this build does not know (or does not expect in this version): kept
/// as its bytes and written back in tag order when the message is encoded.
struct tagged_field {
  std::uint32_t tag = 0;
  nodus::bytes data;
  friend bool operator==(const tagged_field&, const tagged_field&) = default;
};
/// The unknown tagged fields of one struct, in the order they were read.
using unknown_tagged_fields = std::vector<tagged_field>;

/// Socket.request.max.bytes' default in Kafka brokers: the largest frame a decoder accepts.
inline constexpr std::size_t default_max_frame_size = 100 * 1024 * 1024;

/// What a decoder accepts.
struct decode_limits {
  /// Frames (and bodies) longer than this are refused with `errc::too_large`.
  std::size_t max_frame_size = default_max_frame_size;
  /// Memory the decoded value may take (element storage, strings, bytes), as a multiple of the
  /// input's size, plus 64 KiB: an input that would need more is refused with `errc::too_large`.
  /// Real messages need a few times their size, a struct of empty fields up to about 40 times
  /// (a topic of a Metadata request: 2 bytes on the wire, 80 in memory). The bound stops a small
  /// frame of empty elements from asking for gigabytes.
  std::size_t max_memory_factor = 64;
};

/// What a generated `visit_fields` tells a visitor about one field, for one version.
struct field_info {
  const char* name;  ///< the schema's name, e.g. "TopicId"
  bool present;      ///< the field exists in this version
  bool nullable;     ///< null is allowed in this version
  bool compact;      ///< compact (flexible) encoding of strings, bytes and arrays
};

/// The body of a message this library passes through: the bytes after its header, as they came.
struct raw_body {
  nodus::bytes data;

  /// Appends the bytes as they are (every version).
  void encode(nodus::bytes& out, std::int16_t version) const;
  /// `{"raw_hex": "..."}`.
  json::value to_json(std::int16_t version) const;
  friend bool operator==(const raw_body&, const raw_body&) = default;
};

}  // namespace nodus::kafka
