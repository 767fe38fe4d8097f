// Snappy, raw and in xerial's snappy-java framing (what Kafka's Java client writes):
//   magic 82 53 4e 41 50 50 59 00, version int32, compatible version int32,
//   then blocks of [int32 compressed length, raw snappy block].
#include <snappy.h>

#include <algorithm>
#include <array>
#include <string>

#include "bounded_output.hpp"
#include "codecs.hpp"
#include "wire.hpp"

namespace nodus::kafka::records {

namespace {

constexpr std::array<std::uint8_t, 8> xerial_magic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr std::size_t xerial_header_size = 16;
// snappy-java's default block size: the Java client's blocks are this much uncompressed.
constexpr std::size_t xerial_block_size = 32 * 1024;

// Snappy's densest element is a 3-byte copy of 64 bytes; a claimed length beyond this many
// bytes per input byte cannot be real, and is refused before anything is allocated for it.
constexpr std::size_t snappy_max_ratio = 22;

// One raw snappy block, appended to `out`, which may hold at most `max_output` bytes in all.
result_or_failure<void> append_block(byte_view block, bytes& out, std::size_t max_output) {
  std::size_t length = 0;
  const auto* p = reinterpret_cast<const char*>(block.data());
  if (!::snappy::GetUncompressedLength(p, block.size(), &length)) return detail::corrupt("snappy", "bad block length");
  if (length > max_output - out.size()) return detail::too_large("snappy", max_output);
  if (length > block.size() * snappy_max_ratio + 64)
    return detail::corrupt("snappy",
                           "a block claims " + std::to_string(length) + " bytes from " + std::to_string(block.size()));
  const auto at = out.size();
  out.resize(at + length);
  if (!::snappy::RawUncompress(p, block.size(), reinterpret_cast<char*>(out.data() + at)))
    return detail::corrupt("snappy", "corrupt block");
  return outcome::success();
}

result_or_failure<bytes> unframe(byte_view data, std::size_t max_output) {
  detail::reader in(data.subspan(xerial_header_size));
  bytes out;
  while (in.remaining() > 0) {
    const auto length = in.u32();
    const auto block = in.take(length);
    if (!in.ok()) return detail::corrupt("snappy", "truncated xerial block");
    auto appended = append_block(block, out, max_output);
    if (!appended) return appended.error();
  }
  return out;
}

void append_raw(byte_view data, bytes& out) {
  std::string compressed;
  ::snappy::Compress(reinterpret_cast<const char*>(data.data()), data.size(), &compressed);
  out.insert(out.end(), compressed.begin(), compressed.end());
}

}  // namespace

bool is_xerial_framed(byte_view data) noexcept {
  return data.size() >= xerial_header_size && std::equal(xerial_magic.begin(), xerial_magic.end(), data.begin());
}

namespace detail {

result_or_failure<bytes> unsnappy(byte_view data, std::size_t max_output) {
  if (is_xerial_framed(data)) return unframe(data, max_output);
  bytes out;
  auto appended = append_block(data, out, max_output);
  if (!appended) return appended.error();
  return out;
}

result_or_failure<bytes> snappy(byte_view data, snappy_framing framing) {
  bytes out;
  if (framing == snappy_framing::raw) {
    append_raw(data, out);
    return out;
  }
  out.assign(xerial_magic.begin(), xerial_magic.end());
  writer w(out);
  w.be(1, 4);  // version
  w.be(1, 4);  // compatible version
  for (std::size_t at = 0; at < data.size(); at += xerial_block_size) {
    bytes block;
    append_raw(data.subspan(at, std::min(xerial_block_size, data.size() - at)), block);
    w.be(block.size(), 4);
    w.put(block);
  }
  return out;
}

}  // namespace detail

}  // namespace nodus::kafka::records
