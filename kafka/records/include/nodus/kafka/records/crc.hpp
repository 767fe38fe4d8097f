#pragma once
/// The checksums of Kafka's record formats: CRC-32C (Castagnoli) for RecordBatch v2, CRC-32
/// (IEEE, as zlib computes it) for legacy messages (magic 0 and 1).

#include <cstdint>

#include "nodus/core/bytes.hpp"

namespace nodus::kafka::records {

/// CRC-32C of `data` (reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF),
/// continuing from `crc` (the CRC of the bytes before `data`; 0 for none). Uses the CPU's
/// crc32 instruction (SSE4.2) when it has one, else slicing-by-8 tables.
std::uint32_t crc32c(byte_view data, std::uint32_t crc = 0) noexcept;

/// CRC-32 (IEEE 802.3, as in zlib and gzip) of `data`, continuing from `crc`.
std::uint32_t crc32(byte_view data, std::uint32_t crc = 0) noexcept;

namespace detail {
/// The table-driven CRC-32C (slicing-by-8), whatever the CPU. For tests.
std::uint32_t crc32c_portable(byte_view data, std::uint32_t crc) noexcept;
/// Whether `crc32c` uses the CPU's instruction on this machine.
bool crc32c_hardware_available() noexcept;
}  // namespace detail

}  // namespace nodus::kafka::records
