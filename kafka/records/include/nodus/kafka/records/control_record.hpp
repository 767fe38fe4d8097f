#pragma once
/// Control records: the single record of a control batch (attribute bit 5), written by the
/// transaction coordinator. Key: [version int16, type int16]; value of a commit or abort marker:
/// [version int16, coordinator_epoch int32]. Other types keep their value as it is.

#include <cstdint>
#include <optional>

#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/record.hpp"

namespace nodus::kafka::records {

/// The type in a control record's key.
enum class control_type : std::int16_t { abort = 0, commit = 1 };

/// A decoded control record.
struct control_record {
  std::int16_t key_version = 0;
  std::int16_t type = 0;  ///< `control_type` for the known ones; others as read
  /// Commit and abort markers: the value's version and the coordinator's epoch.
  std::optional<std::int16_t> value_version;
  std::optional<std::int32_t> coordinator_epoch;
};

/// The control record in `r` (the record of a control batch): `errc::malformed` when its key is
/// not 4 bytes or more, or a marker's value is shorter than 6 bytes.
result_or_failure<control_record> decode_control_record(const record& r);

/// A commit or abort marker as a record (offset delta 0, timestamp delta 0).
record make_control_record(control_type type, std::int32_t coordinator_epoch);

}  // namespace nodus::kafka::records
