#include "nodus/kafka_crypto/envelope.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "nodus/core/error.hpp"

namespace nodus::kafka_crypto {
namespace {

constexpr std::uint8_t magic[2] = {'N', 'K'};
constexpr std::string_view aad_label = "nodus kafka record v1";

void put_u32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_u64(bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::uint64_t get_be(byte_view b) {
  std::uint64_t v = 0;
  for (auto x : b) v = (v << 8) | x;
  return v;
}

void put_part(bytes& out, byte_view part) {
  put_u32(out, static_cast<std::uint32_t>(part.size()));
  out.insert(out.end(), part.begin(), part.end());
}

// A nullable part: a presence byte, then the part when present.
void put_nullable(bytes& out, const std::optional<bytes>& part) {
  out.push_back(part ? 1 : 0);
  if (part) put_part(out, *part);
}

}  // namespace

result_or_failure<envelope> read_envelope(byte_view value) {
  if (value.size() < envelope_overhead)
    return fail(errc::malformed,
                fmt::format("a sealed value is at least {} bytes, this one {}", envelope_overhead, value.size()));
  if (value[0] != magic[0] || value[1] != magic[1])
    return fail(errc::malformed, "the value does not start with a Nodus envelope");
  if (value[2] != envelope_version)
    return fail(errc::unsupported_version,
                fmt::format("envelope version {}; this build reads version {}", value[2], envelope_version));
  envelope e;
  std::copy_n(value.begin() + 3, e.key.size(), e.key.begin());
  e.rekey_counter = static_cast<std::uint32_t>(get_be(value.subspan(19, 4)));
  std::copy_n(value.begin() + 23, e.session.size(), e.session.begin());
  e.sequence = get_be(value.subspan(31, 8));
  std::copy_n(value.begin() + envelope_prefix_size, e.nonce.size(), e.nonce.begin());
  e.prefix = value.first(envelope_prefix_size);
  e.sealed = value.subspan(envelope_prefix_size + envelope_nonce_size);
  return e;
}

void write_envelope_prefix(const key_name& key, std::uint32_t rekey_counter, const session_id& session,
                           std::uint64_t sequence, bytes& out) {
  out.insert(out.end(), std::begin(magic), std::end(magic));
  out.push_back(envelope_version);
  out.insert(out.end(), key.begin(), key.end());
  put_u32(out, rekey_counter);
  out.insert(out.end(), session.begin(), session.end());
  put_u64(out, sequence);
}

bytes associated_data(const record_place& place, const std::optional<bytes>& record_key,
                      const std::vector<kafka::records::header>& headers, std::string_view producer,
                      byte_view envelope_prefix, std::string_view field) {
  bytes out;
  out.reserve(aad_label.size() + place.topic.size() + producer.size() + envelope_prefix.size() + 64 +
              (record_key ? record_key->size() : 0));
  put_part(out, as_bytes(aad_label));
  put_part(out, as_bytes(place.topic));
  put_u32(out, static_cast<std::uint32_t>(place.partition));
  put_nullable(out, record_key);
  std::uint32_t count = 0;
  for (const auto& h : headers) count += h.key != sealed_header;
  put_u32(out, count);
  for (const auto& h : headers) {
    if (h.key == sealed_header) continue;
    put_part(out, as_bytes(h.key));
    put_nullable(out, h.value);
  }
  put_part(out, as_bytes(producer));
  put_part(out, envelope_prefix);
  if (!field.empty()) put_part(out, as_bytes(field));
  return out;
}

bool has_sealed_header(const std::vector<kafka::records::header>& headers) noexcept {
  return std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.key == sealed_header; });
}

}  // namespace nodus::kafka_crypto
