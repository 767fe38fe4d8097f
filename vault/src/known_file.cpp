#include "known_file.hpp"

#include <algorithm>
#include <array>

#include "nodus/vault/errors.hpp"

namespace nodus::vault::detail {
namespace {

constexpr std::array<std::uint8_t, 8> magic{'N', 'O', 'D', 'U', 'S', 'K', 'I', 'D'};
constexpr std::uint8_t format_version = 1;
constexpr std::size_t fixed_head = magic.size() + 2;  // magic, version, identifier length
constexpr std::size_t checksum_size = 32;

auto corrupted(const std::string& path, const std::string& what) {
  return fail(errc::corrupted_file, "known identity file " + path + ": " + what);
}

std::uint32_t read_u32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

bool valid_identifier(std::string_view id) noexcept {
  return id.size() == 41 && id[0] == 'I' &&
         std::all_of(id.begin() + 1, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bytes encode_known_file(std::string_view id, const change_history& history) {
  const bytes encoded = history.encode();
  const auto m = static_cast<std::uint32_t>(encoded.size());
  bytes out(magic.begin(), magic.end());
  out.push_back(format_version);
  out.push_back(static_cast<std::uint8_t>(id.size()));
  out.insert(out.end(), id.begin(), id.end());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(m >> shift));
  out.insert(out.end(), encoded.begin(), encoded.end());
  const bytes sum = sha256(out);
  out.insert(out.end(), sum.begin(), sum.end());
  return out;
}

result_or_failure<change_history> decode_known_file(const std::string& path, std::string_view id, byte_view in) {
  const std::string size_text = std::to_string(in.size()) + " bytes";
  if (in.size() < fixed_head) return corrupted(path, "truncated (" + size_text + ")");
  if (!std::equal(magic.begin(), magic.end(), in.begin()))
    return corrupted(path, "not a Nodus known identity file (bad magic)");
  if (in[8] != format_version) return corrupted(path, "unsupported format version " + std::to_string(in[8]));
  const std::size_t n = in[9];
  if (in.size() < fixed_head + n + 4) return corrupted(path, "truncated (" + size_text + ")");
  const std::size_t m = read_u32(in.data() + fixed_head + n);
  if (m > max_known_history) return corrupted(path, "history length " + std::to_string(m) + " out of range");
  const std::size_t expected = fixed_head + n + 4 + m + checksum_size;
  if (in.size() != expected)
    return corrupted(path, std::string(in.size() < expected ? "truncated" : "trailing bytes") + " (" + size_text +
                               ", expected " + std::to_string(expected) + ")");
  const bytes sum = sha256(in.first(expected - checksum_size));
  if (!std::equal(sum.begin(), sum.end(), in.end() - checksum_size))
    return corrupted(path, "checksum mismatch (edited or damaged)");
  const std::string_view stored_id(reinterpret_cast<const char*>(in.data() + fixed_head), n);
  if (stored_id != id) return corrupted(path, "holds identity " + std::string(stored_id) + ", not the file's name");
  auto history = change_history::decode(in.subspan(fixed_head + n + 4, m));
  if (!history) return corrupted(path, history.error().message());
  // Not verified again: it was when it was written, and the checksum and the file's mode are what
  // keep it so. Checking its signatures on every handshake would double what verifying a peer costs.
  if (history.value().changes().empty()) return corrupted(path, "holds an empty history");
  if (history.value().id() != id) return corrupted(path, "holds the history of identity " + history.value().id());
  return history;
}

}  // namespace nodus::vault::detail
