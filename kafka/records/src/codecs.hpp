#pragma once
// The snappy codec (snappy.cpp), used by compression.cpp.

#include <cstddef>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/compression.hpp"

namespace nodus::kafka::records::detail {

result_or_failure<bytes> unsnappy(byte_view data, std::size_t max_output);
result_or_failure<bytes> snappy(byte_view data, snappy_framing framing);

}  // namespace nodus::kafka::records::detail
