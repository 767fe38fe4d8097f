#include <msgpack.hpp>

#include "channel_state.hpp"
#include "nodus/core/message_codec.hpp"
#include "nodus/vault/known_identities.hpp"

namespace nodus::secure_channel {
namespace {

constexpr std::uint8_t payload_version = 1;
constexpr std::size_t max_payload_field = 64 * 1024;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

result_or_failure<channel_identity> channel_identity::create(vault::identity id, std::chrono::seconds validity) {
  auto& v = id.key_vault();
  auto key = v->generate(vault::key_type::x25519);
  if (!key) return key.error();
  auto pub = v->public_key(key.value());
  if (!pub) {
    (void)v->remove(key.value());
    return fail(pub.error(), "cannot read the static key's public half");
  }
  channel_identity made;
  made.state_ = std::make_shared<state>(std::move(id), key.value(), std::move(pub.value()), validity);
  auto payload = made.state_->handshake_payload(nullptr);
  if (!payload) return payload.error();
  return made;
}

const vault::identifier& channel_identity::id() const { return state_->identity.id(); }

result_or_failure<bytes> channel_identity::state::handshake_payload(const bytes* credential) {
  std::unique_lock lock(mutex);
  auto now = now_seconds();
  if (history.empty() || expires_at - now <= validity.count() / 10) {
    auto attested = identity.attest(static_public, validity);
    if (!attested) return attested.error();
    expires_at = attested.value().expires_at;
    history = identity.history().encode();
    attestation = attested.value().encode();
  }
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  const auto pack_bytes = [&](const bytes& b) {
    pk.pack_bin(static_cast<std::uint32_t>(b.size()));
    pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
  };
  pk.pack_array(credential ? 4 : 3);
  pk.pack(payload_version);
  pack_bytes(history);
  pack_bytes(attestation);
  if (credential) pack_bytes(*credential);
  return bytes(buffer.data(), buffer.data() + buffer.size());
}

result_or_failure<verified_peer> verify_peer(byte_view payload, const bytes& remote_static, const options& local) {
  auto malformed = [](std::string why) { return fail(nodus::errc::malformed, "peer's handshake payload: " + why); };
  // Bounded: every size in the payload is limited by its length, so a short header claiming
  // a huge array or byte string is refused before anything is allocated for it.
  auto handle = nodus::detail::unpack_bounded(payload);
  if (!handle)
    return fail(handle.error(), "peer's handshake payload: not one msgpack value (" + handle.error().message() + ")");
  const auto& root = handle.value().get();
  // [version, history, attestation] or [version, history, attestation, credential]
  if (root.type != msgpack::type::ARRAY || root.via.array.size < 3 || root.via.array.size > 4)
    return malformed("not an array of 3 or 4 elements");
  const auto* items = root.via.array.ptr;
  const auto size = static_cast<int>(root.via.array.size);
  if (items[0].type != msgpack::type::POSITIVE_INTEGER || items[0].via.u64 != payload_version)
    return fail(nodus::errc::unsupported_version, "peer's handshake payload has an unsupported version");
  for (int i = 1; i < size; ++i)
    if (items[i].type != msgpack::type::BIN || items[i].via.bin.size > max_payload_field)
      return malformed("field " + std::to_string(i) + " is not a bounded byte string");
  const auto field = [&](int i) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(items[i].via.bin.ptr);
    return byte_view(p, items[i].via.bin.size);
  };
  auto decoded = vault::change_history::decode(field(1));
  if (!decoded) return decoded.error();
  auto attestation = vault::attestation::decode(field(2));
  if (!attestation) return attestation.error();
  // Verified once, here: the attestation and the memory of known identities both take it as it is.
  auto history = vault::verified_history::of(std::move(decoded).value());
  if (!history) return history.error();
  auto id = vault::verify_attestation(history.value(), attestation.value(), remote_static);
  if (!id) return id.error();
  verified_peer peer{id.value(), std::nullopt};
  policy::subject subject{id.value(), {}};
  if (local.credentials.verify) {
    if (size < 4)
      return fail(vault::errc::untrusted_identity,
                  "identity " + id.value() + " presented no credential, and this end accepts only members");
    auto checked = local.credentials.verify(field(3), id.value());
    if (!checked)
      return fail(vault::errc::untrusted_identity,
                  "the credential of identity " + id.value() + " is refused: " + checked.error().message());
    subject.attributes = checked.value().attributes;
    peer.credential = std::move(checked).value();
  }
  if (!local.trust.trusts(subject))
    return fail(vault::errc::untrusted_identity,
                "identity " + id.value() + " is not trusted (policy: " + local.trust.description() + ")");
  // Last, so that only trusted identities are remembered: with any other order, every stranger
  // who handshakes would leave a file in a directory vault. A history older than the one seen
  // (a key rotated away since) or forking from it is refused here.
  auto& keys = detail::access::state(local.identity)->identity.key_vault();
  auto remembered = keys->known().check_and_remember(history.value());
  if (!remembered) return remembered.error();
  return peer;
}

}  // namespace nodus::secure_channel
