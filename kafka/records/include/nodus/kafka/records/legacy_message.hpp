#pragma once
/// Legacy messages (magic 0 and 1, Kafka before 0.11), as they still appear in the `records`
/// of old Produce versions and in fetch responses for old segments:
///
///   offset       int64
///   message_size int32   bytes after this field
///   crc          uint32  CRC-32 (IEEE) of the bytes after it
///   magic        int8    0 or 1
///   attributes   int8    codec (bits 0-2), timestamp type (bit 3, magic 1)
///   timestamp    int64   magic 1 only
///   key          int32 length (-1: null), bytes
///   value        int32 length (-1: null), bytes
///
/// A compressed message is a wrapper: its value is a message set of inner messages, compressed
/// with its codec. Legacy messages are read only: re-encoding emits them as they were decoded.

#include <cstdint>
#include <optional>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/record_batch.hpp"

namespace nodus::kafka::records {

/// One legacy message.
struct legacy_message {
  std::int64_t offset = 0;
  std::uint32_t crc = 0;
  std::int8_t magic = 0;
  std::int8_t attributes = 0;
  std::optional<std::int64_t> timestamp;  ///< magic 1 only
  std::optional<bytes> key;
  std::optional<bytes> value;  ///< a wrapper's compressed value, as on the wire
  /// A wrapper's inner messages (decompressed); empty for an uncompressed message.
  std::vector<legacy_message> inner;

  codec compression() const noexcept { return static_cast<codec>(attributes & 0x07); }
  friend bool operator==(const legacy_message&, const legacy_message&) = default;
};

/// The message in `wire`, which holds exactly one (12 + message_size bytes). Errors, with the
/// message's offset in the reason: a wrong size, magic other than 0 or 1, a CRC-32 mismatch, key
/// or value lengths that do not fit, an unassigned codec, and the codec's errors for a wrapper
/// (lz4 under magic 0, whose frames Kafka wrote with a wrong header checksum, is refused by
/// liblz4). A wrapper's inner messages cannot be wrappers themselves.
result_or_failure<legacy_message> decode_legacy_message(byte_view wire, const decode_limits& limits = {},
                                                        std::size_t* spent = nullptr);

}  // namespace nodus::kafka::records
