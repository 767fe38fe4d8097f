// Attestations of secure-channel static keys: encoding and verification against a history.
//
// Encoding (version 2): [2, version, change_hash, subject_key, expires_at, signature]; the
// leading 2 is the encoding's version, `version` the content's (it is signed). The signature
// covers ["nodus.identity.attestation", version, change_hash, subject_key, expires_at], so an
// attestation cannot be taken for an identity change (different label) and says nothing but what
// it signs.
//
// Why the change hash: an attestation speaks for the identity as it was at one change. Bound to
// the hash of that change, it verifies only against a history whose latest change is that one,
// so neither an attestation made before a rotation nor one made by a key rotated away since can
// be shown with a longer history. Version 1 attestations had no such binding and are refused.

#include <algorithm>
#include <string>

#include "identity_attestation.hpp"
#include "identity_codec.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::vault {

namespace {

constexpr std::string_view attestation_label = "nodus.identity.attestation";

auto malformed(const std::string& what) { return fail(nodus::errc::malformed, "identity attestation: " + what); }

auto untrusted(const identifier& id, const std::string& what) {
  return fail(errc::untrusted_identity, "identity " + id + ": attestation " + what);
}

// The index of the change whose signed content hashes to `hash`, or the size if none does.
std::size_t change_named(const change_history& history, byte_view hash) {
  const auto& changes = history.changes();
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const bytes h = sha256(changes[i].signed_content());
    if (std::equal(h.begin(), h.end(), hash.begin(), hash.end())) return i;
  }
  return changes.size();
}

// Which change `a` is bound to, and that the change's key signed it; the index of the change.
result_or_failure<std::size_t> check_binding(const change_history& history, const identifier& ident,
                                             const attestation& a) {
  const std::size_t n = history.changes().size();
  if (a.change_hash.size() != detail::hash_size)
    return untrusted(ident, "has a change hash of " + std::to_string(a.change_hash.size()) + " bytes, expected 32");
  const std::size_t at = change_named(history, a.change_hash);
  if (at == n) return untrusted(ident, "is bound to a change that is not in the history presented");
  const bytes content = detail::attestation_signed_content(a.version, a.change_hash, a.subject_key, a.expires_at);
  if (!verify_ed25519(history.changes()[at].public_key, content, a.signature))
    return untrusted(ident, at + 1 == n ? "is not signed by the identity's current primary key"
                                        : "is not signed by the key of the change it names");
  // Only the latest change's key speaks for the identity: an earlier key has been replaced,
  // perhaps because it leaked.
  if (at + 1 != n)
    return untrusted(ident, "was made under change " + std::to_string(at) + " of " + std::to_string(n) +
                                " and signed by a key rotated away since; only the latest change's key counts");
  return at;
}

}  // namespace

namespace detail {

bytes attestation_signed_content(std::uint8_t version, byte_view change_hash, byte_view subject_key,
                                 std::int64_t expires_at) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  packer pk(writer);
  pk.pack_array(5);
  pack_str(pk, attestation_label);
  pk.pack_uint8(version);
  pack_bin(pk, change_hash);
  pack_bin(pk, subject_key);
  pk.pack_int64(expires_at);
  return out;
}

}  // namespace detail

bytes attestation::encode() const {
  bytes out;
  nodus::detail::byte_writer writer{out};
  detail::packer pk(writer);
  pk.pack_array(6);
  pk.pack_uint8(detail::attestation_encoding_version);
  pk.pack_uint8(version);
  detail::pack_bin(pk, change_hash);
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
  if (encoding == 1)
    return fail(nodus::errc::unsupported_version,
                "identity attestation: version 1 is no longer accepted (it is not bound to a change of the "
                "identity; the peer needs a Nodus that makes version 2)");
  if (encoding != detail::attestation_encoding_version)
    return fail(nodus::errc::unsupported_version, "identity attestation: unknown version " + std::to_string(encoding));
  const auto* f = detail::array_of(root, 6);
  attestation a;
  std::uint64_t version = 0;
  if (f == nullptr || !detail::read_uint(f[1], 0xff, version) || !detail::read_bin(f[2], a.change_hash) ||
      !detail::read_bin(f[3], a.subject_key) || !detail::read_int64(f[4], a.expires_at) ||
      !detail::read_bin(f[5], a.signature))
    return malformed("fields of the wrong number or type");
  a.version = static_cast<std::uint8_t>(version);
  return a;
}

result_or_failure<identifier> verify_attestation(const change_history& history, const attestation& a,
                                                 byte_view static_key, std::chrono::system_clock::time_point now) {
  auto verified = verified_history::of(history);
  if (!verified) return std::move(verified).error();
  return verify_attestation(verified.value(), a, static_key, now);
}

result_or_failure<identifier> verify_attestation(const verified_history& verified, const attestation& a,
                                                 byte_view static_key, std::chrono::system_clock::time_point now) {
  const change_history& history = verified.history();
  const identifier& ident = verified.id();
  if (a.version != detail::attestation_content_version)
    return untrusted(ident, "of unknown version " + std::to_string(a.version));
  if (auto bound = check_binding(history, ident, a); !bound) return bound.error();
  if (!std::equal(a.subject_key.begin(), a.subject_key.end(), static_key.begin(), static_key.end()))
    return untrusted(ident, "is for another key than the one presented");
  if (detail::unix_seconds(now) >= a.expires_at)
    return fail(errc::expired, "identity " + ident + ": attestation expired at " + std::to_string(a.expires_at) +
                                   " (now " + std::to_string(detail::unix_seconds(now)) + ")");
  return ident;
}

}  // namespace nodus::vault
