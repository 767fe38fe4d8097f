#pragma once
/// RecordBatch v2 (magic 2), the format of every Kafka since 0.11:
///
///   offset  field                   type
///        0  base_offset             int64
///        8  batch_length            int32   bytes after this field
///       12  partition_leader_epoch  int32
///       16  magic                   int8    2
///       17  crc                     uint32  CRC-32C of the bytes from offset 21 to the end
///       21  attributes              int16   codec (bits 0-2), timestamp type (3), transactional
///                                           (4), control (5), delete horizon set (6)
///       23  last_offset_delta       int32
///       27  base_timestamp          int64
///       35  max_timestamp           int64
///       43  producer_id             int64
///       51  producer_epoch          int16
///       53  base_sequence           int32
///       57  record_count            int32
///       61  records                 (compressed as a whole when the codec is not none)
///
/// Decoding keeps the records section as it was on the wire, so that re-encoding a batch whose
/// records were not changed gives the same bytes, compressed payload included.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/compression.hpp"
#include "nodus/kafka/records/record.hpp"

namespace nodus::kafka::records {

/// The size of a v2 batch's header, up to and including record_count.
inline constexpr std::size_t batch_header_size = 61;
/// Where a batch's magic byte is (the same place in legacy messages).
inline constexpr std::size_t magic_offset = 16;

/// Attribute bits of a v2 batch.
namespace attribute {
inline constexpr std::int16_t codec_mask = 0x07;
inline constexpr std::int16_t log_append_time = 0x08;  ///< else the timestamps are CreateTime
inline constexpr std::int16_t transactional = 0x10;
inline constexpr std::int16_t control = 0x20;
inline constexpr std::int16_t delete_horizon = 0x40;  ///< base_timestamp is the delete horizon
}  // namespace attribute

/// What a decoder may spend on one input.
struct decode_limits {
  /// Bytes that decompression may produce, over every batch of one decode call.
  std::size_t max_decompressed_bytes = 64 * 1024 * 1024;
  /// When false, compressed batches are not decompressed: their `records` stay empty and they
  /// are re-encoded with their payload as it was.
  bool decompress = true;
};

/// A batch's records section as it was decoded, kept so that encoding an unchanged batch
/// reuses it. Shared between copies of the batch.
struct batch_wire {
  bytes payload;  ///< the records section as on the wire (compressed when the codec is not none)
  bytes plain;    ///< its decompressed form (empty when the codec is none: it is `payload`)
  codec compression = codec::none;
  snappy_framing framing = snappy_framing::xerial;
  std::int32_t record_count = 0;
  bool records_decoded = true;  ///< false when decoded with `decode_limits::decompress` off
};

/// One RecordBatch v2.
struct record_batch {
  std::int64_t base_offset = 0;
  std::int32_t partition_leader_epoch = -1;
  std::uint32_t crc = 0;  ///< as decoded; `encode` writes the CRC of what it encodes
  std::int16_t attributes = 0;
  std::int32_t last_offset_delta = 0;
  std::int64_t base_timestamp = 0;
  std::int64_t max_timestamp = 0;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  std::vector<record> records;
  /// Set by `decode_batch`; `encode` reuses the original payload while the records and the
  /// codec are unchanged. Reset it to force re-encoding.
  std::shared_ptr<const batch_wire> wire;

  /// The codec in the attributes (`codec::none` for the unassigned values 5-7, which decoding
  /// refuses).
  codec compression() const noexcept;
  void set_compression(codec c) noexcept;
  bool log_append_time() const noexcept { return (attributes & attribute::log_append_time) != 0; }
  bool is_transactional() const noexcept { return (attributes & attribute::transactional) != 0; }
  bool is_control() const noexcept { return (attributes & attribute::control) != 0; }
  bool has_delete_horizon() const noexcept { return (attributes & attribute::delete_horizon) != 0; }
  /// The record count the batch says it has: the records' when decoded, else the header's.
  std::int32_t record_count() const noexcept;

  /// Every field and record equal (`crc` and `wire` are not compared).
  friend bool operator==(const record_batch& a, const record_batch& b);
};

/// The batch in `wire`, which holds exactly one batch (12 + batch_length bytes). Errors
/// (`errc::malformed` unless said otherwise), each with a reason naming the batch's base offset:
/// a wrong length, magic other than 2 (`errc::unsupported_version`), a CRC-32C mismatch (stored
/// and computed values in the reason), an unassigned codec (`errc::not_supported`), records that
/// do not parse or do not fill the section exactly, a record count that disagrees, and the
/// codec's errors (`errc::too_large` past `limits.max_decompressed_bytes`). `spent` counts the
/// bytes decompressed so far against that limit.
result_or_failure<record_batch> decode_batch(byte_view wire, const decode_limits& limits = {},
                                             std::size_t* spent = nullptr);

/// The bytes of `batch`: its header fields as they are (batch_length and crc computed), its
/// records compressed with its codec (snappy in the framing it was decoded with, xerial for a new
/// batch), or its decoded payload unchanged when the records and codec are. Fails only for an
/// unassigned codec or a codec library's failure.
result_or_failure<bytes> encode(const record_batch& batch);

/// The records section of a batch (uncompressed), as `encode` writes it.
bytes encode_records(const std::vector<record>& records);

}  // namespace nodus::kafka::records
