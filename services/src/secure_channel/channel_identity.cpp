#include <msgpack.hpp>

#include "channel_state.hpp"

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

result_or_failure<vault::identifier> verify_peer(byte_view payload, const bytes& remote_static,
                                                 const trust_policy& trust) {
  auto malformed = [](std::string why) { return fail(nodus::errc::malformed, "peer's handshake payload: " + why); };
  bytes history_bytes, attestation_bytes;
  try {
    auto handle = msgpack::unpack(reinterpret_cast<const char*>(payload.data()), payload.size());
    const auto& root = handle.get();
    if (root.type != msgpack::type::ARRAY || root.via.array.size != 3) return malformed("not a 3-element array");
    const auto* items = root.via.array.ptr;
    if (items[0].type != msgpack::type::POSITIVE_INTEGER || items[0].via.u64 != payload_version)
      return fail(nodus::errc::unsupported_version, "peer's handshake payload has an unsupported version");
    for (int i = 1; i < 3; ++i)
      if (items[i].type != msgpack::type::BIN || items[i].via.bin.size > max_payload_field)
        return malformed("field " + std::to_string(i) + " is not a bounded byte string");
    history_bytes.assign(items[1].via.bin.ptr, items[1].via.bin.ptr + items[1].via.bin.size);
    attestation_bytes.assign(items[2].via.bin.ptr, items[2].via.bin.ptr + items[2].via.bin.size);
  } catch (const std::exception& e) {
    return malformed(e.what());
  }
  auto history = vault::change_history::decode(history_bytes);
  if (!history) return history.error();
  auto attestation = vault::attestation::decode(attestation_bytes);
  if (!attestation) return attestation.error();
  auto id = vault::verify_attestation(history.value(), attestation.value(), remote_static);
  if (!id) return id.error();
  if (!trust.trusts(id.value()))
    return fail(vault::errc::untrusted_identity,
                "identity " + id.value() + " is not trusted (policy: " + trust.description() + ")");
  return id;
}

}  // namespace nodus::secure_channel
