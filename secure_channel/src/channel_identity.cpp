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
  auto payload = made.state_->handshake_payload();
  if (!payload) return payload.error();
  return made;
}

const vault::identifier& channel_identity::id() const { return state_->identity.id(); }

result_or_failure<bytes> channel_identity::state::handshake_payload() {
  std::lock_guard lock(mutex);
  auto now = now_seconds();
  if (!payload.empty() && expires_at - now > validity.count() / 10) return payload;
  auto attested = identity.attest(static_public, validity);
  if (!attested) return attested.error();
  expires_at = attested.value().expires_at;
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  auto history = identity.history().encode();
  auto attestation = attested.value().encode();
  pk.pack_array(3);
  pk.pack(payload_version);
  pk.pack_bin(static_cast<std::uint32_t>(history.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(history.data()), static_cast<std::uint32_t>(history.size()));
  pk.pack_bin(static_cast<std::uint32_t>(attestation.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(attestation.data()), static_cast<std::uint32_t>(attestation.size()));
  payload.assign(buffer.data(), buffer.data() + buffer.size());
  return payload;
}

result_or_failure<vault::identifier> verify_peer(byte_view payload, const bytes& remote_static, const options& local) {
  auto malformed = [](std::string why) { return fail(nodus::errc::malformed, "peer's handshake payload: " + why); };
  // Bounded: every size in the payload is limited by its length, so a short header claiming
  // a huge array or byte string is refused before anything is allocated for it.
  auto handle = nodus::detail::unpack_bounded(payload);
  if (!handle)
    return fail(handle.error(), "peer's handshake payload: not one msgpack value (" + handle.error().message() + ")");
  const auto& root = handle.value().get();
  if (root.type != msgpack::type::ARRAY || root.via.array.size != 3) return malformed("not a 3-element array");
  const auto* items = root.via.array.ptr;
  if (items[0].type != msgpack::type::POSITIVE_INTEGER || items[0].via.u64 != payload_version)
    return fail(nodus::errc::unsupported_version, "peer's handshake payload has an unsupported version");
  for (int i = 1; i < 3; ++i)
    if (items[i].type != msgpack::type::BIN || items[i].via.bin.size > max_payload_field)
      return malformed("field " + std::to_string(i) + " is not a bounded byte string");
  const auto field = [&](int i) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(items[i].via.bin.ptr);
    return byte_view(p, items[i].via.bin.size);
  };
  auto history = vault::change_history::decode(field(1));
  if (!history) return history.error();
  auto attestation = vault::attestation::decode(field(2));
  if (!attestation) return attestation.error();
  auto id = vault::verify_attestation(history.value(), attestation.value(), remote_static);
  if (!id) return id.error();
  if (!local.trust.trusts(id.value()))
    return fail(vault::errc::untrusted_identity,
                "identity " + id.value() + " is not trusted (policy: " + local.trust.description() + ")");
  // Last, so that only trusted identities are remembered: with any other order, every stranger
  // who handshakes would leave a file in a directory vault. A history older than the one seen
  // (a key rotated away since) or forking from it is refused here.
  auto& keys = detail::access::state(local.identity)->identity.key_vault();
  return keys->known().check_and_remember(history.value());
}

}  // namespace nodus::secure_channel
