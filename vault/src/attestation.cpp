// Attestations of secure-channel static keys: encoding and verification against a history.
//
// Encoding: [1, version, subject_key, expires_at, signature]; the leading 1 is the encoding's
// version, `version` the content's (it is signed). The signature covers
// ["nodus.identity.attestation", version, subject_key, expires_at], so an attestation cannot be
// taken for an identity change (different label) and says nothing but what it signs.

#include <algorithm>
#include <string>

#include "identity_attestation.hpp"
#include "identity_codec.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::vault {

namespace {

constexpr std::string_view attestation_label = "nodus.identity.attestation";

auto malformed(const std::string& what) {
  return fail(nodus::errc::malformed, "identity attestation: " + what);
}

auto untrusted(const identifier& id, const std::string& what) {
  return fail(errc::untrusted_identity, "identity " + id + ": attestation " + what);
}

}  // namespace

namespace detail {

bytes attestation_signed_content(std::uint8_t version, byte_view subject_key, std::int64_t expires_at) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  packer pk(writer);
  pk.pack_array(4);
  pack_str(pk, attestation_label);
  pk.pack_uint8(version);
  pack_bin(pk, subject_key);
  pk.pack_int64(expires_at);
  return out;
}

}  // namespace detail

bytes attestation::encode() const {
  bytes out;
  nodus::detail::byte_writer writer{out};
  detail::packer pk(writer);
  pk.pack_array(5);
  pk.pack_uint8(detail::identity_encoding_version);
  pk.pack_uint8(version);
  detail::pack_bin(pk, subject_key);
  pk.pack_int64(expires_at);
  detail::pack_bin(pk, signature);
  return out;
}

result_or_failure<attestation> attestation::decode(byte_view encoded) {
  auto handle = nodus::detail::unpack_bounded(encoded);
  if (!handle)
    return fail(handle.error(), "identity attestation: not one msgpack value (" + handle.error().message() + ")");
  const msgpack::object& root = handle.value().get();
  if (root.type != msgpack::type::ARRAY || root.via.array.size < 1) return malformed("not an array");
  std::uint64_t encoding = 0;
  if (!detail::read_uint(root.via.array.ptr[0], 0xff, encoding)) return malformed("no version");
  if (encoding != detail::identity_encoding_version)
    return fail(nodus::errc::unsupported_version, "identity attestation: unknown version " + std::to_string(encoding));
  const auto* f = detail::array_of(root, 5);
  attestation a;
  std::uint64_t version = 0;
  if (f == nullptr || !detail::read_uint(f[1], 0xff, version) || !detail::read_bin(f[2], a.subject_key) ||
      !detail::read_int64(f[3], a.expires_at) || !detail::read_bin(f[4], a.signature))
    return malformed("fields of the wrong number or type");
  a.version = static_cast<std::uint8_t>(version);
  return a;
}

result_or_failure<identifier> verify_attestation(const change_history& history, const attestation& a,
                                                 byte_view static_key, std::chrono::system_clock::time_point now) {
  auto id = history.verify();
  if (!id) return id.error();
  const identifier& ident = id.value();
  if (a.version != detail::identity_content_version)
    return untrusted(ident, "of unknown version " + std::to_string(a.version));
  // Only the current primary key speaks for the identity: an attestation made before a rotation
  // was signed by a key the identity has since replaced (perhaps because it leaked).
  const bytes content = detail::attestation_signed_content(a.version, a.subject_key, a.expires_at);
  if (!verify_ed25519(history.primary_public_key(), content, a.signature))
    return untrusted(ident, "is not signed by the identity's current primary key");
  if (!std::equal(a.subject_key.begin(), a.subject_key.end(), static_key.begin(), static_key.end()))
    return untrusted(ident, "is for another key than the one presented");
  if (detail::unix_seconds(now) >= a.expires_at)
    return fail(errc::expired, "identity " + ident + ": attestation expired at " + std::to_string(a.expires_at) +
                                   " (now " + std::to_string(detail::unix_seconds(now)) + ")");
  return ident;
}

}  // namespace nodus::vault
