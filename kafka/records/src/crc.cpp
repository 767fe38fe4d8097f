#include "nodus/kafka/records/crc.hpp"

#include <zlib.h>

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace nodus::kafka::records {

namespace {

constexpr std::uint32_t castagnoli_reflected = 0x82F63B78;

// tables[k][b]: the CRC of byte b followed by k zero bytes, so that eight input bytes are folded
// with eight look-ups (slicing-by-8).
using slicing_tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr slicing_tables make_tables() {
  slicing_tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1) ? castagnoli_reflected : 0);
    t[0][b] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  return t;
}

constexpr slicing_tables tables = make_tables();

std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(byte_view data, std::uint32_t crc) noexcept {
  std::uint64_t c = ~crc;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian, as the reflected CRC wants
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}
#endif

}  // namespace

namespace detail {

std::uint32_t crc32c_portable(byte_view data, std::uint32_t crc) noexcept {
  std::uint32_t c = ~crc;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    const std::uint32_t lo = load_le32(p) ^ c;
    const std::uint32_t hi = load_le32(p + 4);
    c = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^ tables[4][lo >> 24] ^
        tables[3][hi & 0xff] ^ tables[2][(hi >> 8) & 0xff] ^ tables[1][(hi >> 16) & 0xff] ^ tables[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) c = (c >> 8) ^ tables[0][(c ^ *p) & 0xff];
  return ~c;
}

bool crc32c_hardware_available() noexcept {
#if defined(__x86_64__)
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
#else
  return false;
#endif
}

}  // namespace detail

std::uint32_t crc32c(byte_view data, std::uint32_t crc) noexcept {
#if defined(__x86_64__)
  if (detail::crc32c_hardware_available()) return crc32c_sse42(data, crc);
#endif
  return detail::crc32c_portable(data, crc);
}

std::uint32_t crc32(byte_view data, std::uint32_t crc) noexcept {
  // zlib takes the length as uInt: feed it in pieces that fit.
  constexpr std::size_t piece = 1u << 30;
  while (!data.empty()) {
    const auto n = std::min(data.size(), piece);
    crc = static_cast<std::uint32_t>(::crc32(crc, data.data(), static_cast<uInt>(n)));
    data = data.subspan(n);
  }
  return crc;
}

}  // namespace nodus::kafka::records
