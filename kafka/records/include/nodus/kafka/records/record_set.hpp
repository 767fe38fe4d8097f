#pragma once
/// A `records` field as Produce requests and Fetch responses carry it: batches one after the
/// other, each starting with [base_offset int64, length int32] and telling its format by the
/// magic byte at offset 16. A fetch response may end with a batch cut short by the broker's size
/// limit; that tail is kept as it is and re-emitted unchanged.

#include <cstdint>
#include <variant>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/legacy_message.hpp"
#include "nodus/kafka/records/record_batch.hpp"

namespace nodus::kafka::records {

/// A legacy message (magic 0 or 1) with its bytes, which encoding emits as they are.
struct legacy_entry {
  legacy_message message;
  bytes raw;

  friend bool operator==(const legacy_entry&, const legacy_entry&) = default;
};

/// The bytes after the last whole batch: shorter than its length field says, or than the 12
/// bytes of offset and length.
struct truncated_tail {
  bytes raw;

  friend bool operator==(const truncated_tail&, const truncated_tail&) = default;
};

/// One entry of a record set.
using record_set_entry = std::variant<record_batch, legacy_entry, truncated_tail>;

/// A decoded `records` field.
struct record_set {
  std::vector<record_set_entry> entries;

  friend bool operator==(const record_set&, const record_set&) = default;
};

/// The record set in `wire` (which may be empty). Whole batches that do not decode fail the
/// whole set, with the reason of `decode_batch` or `decode_legacy_message` and the entry's byte
/// position; a length field that is negative, or too small for the header its magic calls for,
/// is `errc::malformed`; an unknown magic is `errc::unsupported_version`.
result_or_failure<record_set> decode_record_set(byte_view wire, const decode_limits& limits = {});

/// The bytes of `set`: each batch encoded (`encode(record_batch)`), legacy entries and the
/// truncated tail as they were.
result_or_failure<bytes> encode(const record_set& set);

}  // namespace nodus::kafka::records
