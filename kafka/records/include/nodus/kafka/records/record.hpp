#pragma once
/// One record of a RecordBatch v2, and its header entries.
///
///   length          varint   bytes of the record after this field
///   attributes      int8     unused (0)
///   timestampDelta  varlong  from the batch's base timestamp
///   offsetDelta     varint   from the batch's base offset
///   keyLength, key  varint, bytes (-1: null)
///   valueLength, value
///   headers         varint count, then [varint keyLength, key, varint valueLength, value (-1: null)]

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nodus/core/bytes.hpp"

namespace nodus::kafka::records {

/// A record header: a key (never null) and a value that may be null.
struct header {
  std::string key;  ///< as sent; Kafka means UTF-8 but does not check it
  std::optional<bytes> value;

  friend bool operator==(const header&, const header&) = default;
};

/// One record. Its offset is the batch's base offset + `offset_delta`, its timestamp the batch's
/// base timestamp + `timestamp_delta`.
struct record {
  std::int8_t attributes = 0;
  std::int64_t timestamp_delta = 0;
  std::int32_t offset_delta = 0;
  std::optional<bytes> key;    ///< nullopt: a null key
  std::optional<bytes> value;  ///< nullopt: a null value (a tombstone)
  std::vector<header> headers;

  friend bool operator==(const record&, const record&) = default;
};

}  // namespace nodus::kafka::records
