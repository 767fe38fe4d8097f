#include "key_file.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "openssl_crypto.hpp"

namespace nodus::vault::detail {
namespace {

constexpr std::array<std::uint8_t, 8> magic{'N', 'O', 'D', 'U', 'S', 'K', 'E', 'Y'};
constexpr std::uint8_t format_version = 1;
constexpr std::size_t fixed_head = magic.size() + 3;  // magic, version, type, id length

auto corrupted(const std::string& path, const std::string& what) {
  return fail(errc::corrupted_file, "vault file " + path + ": " + what);
}

std::uint32_t read_u32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

secret encode_key_file(std::string_view id, const key_material& key) {
  const std::size_t m = key.bytes.size();
  secret out(fixed_head + id.size() + 4 + m + sha256_size);
  std::uint8_t* p = std::copy(magic.begin(), magic.end(), out.data());
  *p++ = format_version;
  *p++ = static_cast<std::uint8_t>(key.type);
  *p++ = static_cast<std::uint8_t>(id.size());
  p = std::copy(id.begin(), id.end(), p);
  for (int shift = 24; shift >= 0; shift -= 8) *p++ = static_cast<std::uint8_t>(m >> shift);
  p = std::copy_n(key.bytes.data(), m, p);
  const std::size_t body = static_cast<std::size_t>(p - out.data());
  // A hashing failure would write a file that can never load again: leave it unfinished,
  // so the checksum is wrong now rather than later. In practice SHA-256 does not fail.
  if (!sha256_into({byte_view(out.data(), body)}, p)) std::fill_n(p, sha256_size, std::uint8_t{0});
  return out;
}

result_or_failure<key_ptr> decode_key_file(const std::string& path, std::string_view id, byte_view in) {
  const std::string size_text = std::to_string(in.size()) + " bytes";
  if (in.size() < fixed_head) return corrupted(path, "truncated (" + size_text + ")");
  if (!std::equal(magic.begin(), magic.end(), in.begin())) return corrupted(path, "not a Nodus key file (bad magic)");
  if (in[8] != format_version) return corrupted(path, "unsupported format version " + std::to_string(in[8]));
  const std::size_t n = in[10];
  if (in.size() < fixed_head + n + 4) return corrupted(path, "truncated (" + size_text + ")");
  const std::size_t m = read_u32(in.data() + fixed_head + n);
  if (m > max_key_file_secret) return corrupted(path, "secret length " + std::to_string(m) + " out of range");
  const std::size_t expected = fixed_head + n + 4 + m + sha256_size;
  if (in.size() < expected)
    return corrupted(path, "truncated (" + size_text + ", expected " + std::to_string(expected) + ")");
  if (in.size() > expected)
    return corrupted(path, "trailing bytes (" + size_text + ", expected " + std::to_string(expected) + ")");
  std::array<std::uint8_t, sha256_size> sum{};
  if (!sha256_into({in.first(expected - sha256_size)}, sum.data()) ||
      !std::equal(sum.begin(), sum.end(), in.end() - sha256_size))
    return corrupted(path, "checksum mismatch (edited or damaged)");
  const std::string_view stored_id(reinterpret_cast<const char*>(in.data() + fixed_head), n);
  if (stored_id != id) return corrupted(path, "holds key '" + std::string(stored_id) + "', not the file's name");
  const auto type = static_cast<key_type>(in[9]);
  if (key_type_name(type).empty()) return corrupted(path, "unknown key type " + std::to_string(in[9]));
  auto key = make_key(type, secret(in.subspan(fixed_head + n + 4, m)), key_lifetime::persistent);
  if (!key) return corrupted(path, "invalid " + std::string(key_type_name(type)) + " key: " + key.error().message());
  return std::move(key).value();
}

}  // namespace nodus::vault::detail
