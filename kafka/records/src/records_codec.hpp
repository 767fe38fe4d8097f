#pragma once
// The records section of a v2 batch (record.cpp), used by record_batch.cpp.

#include <cstdint>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/record.hpp"

namespace nodus::kafka::records::detail {

/// Exactly `count` records filling `plain`; the reason names the record that failed.
result_or_failure<std::vector<record>> decode_records(byte_view plain, std::int32_t count);

}  // namespace nodus::kafka::records::detail
