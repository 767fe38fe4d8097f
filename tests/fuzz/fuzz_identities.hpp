#pragma once
// Identities made from fixed keys, so that the corpus generator writes the same valid histories,
// attestations and handshake payloads on every run, and the targets check against them.

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <msgpack.hpp>

#include "identity_attestation.hpp"
#include "nodus/core/message_codec.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::fuzz {

/// The secure-channel static key the fixed identities attest (attestations sign any 32 bytes).
inline bytes attested_static_key() { return bytes(32, 0x5a); }

/// A history of `changes` changes (the first, then rotations), every key from a fixed seed,
/// with the vault that holds the keys.
struct fixed_identity {
  std::shared_ptr<vault::vault> v = vault::vault::create_in_memory();
  std::vector<vault::key_id> keys;
  vault::change_history history;

  explicit fixed_identity(int changes) {
    std::vector<vault::identity_change> list;
    for (int i = 0; i < changes; ++i) {
      keys.push_back(
          v->import_secret(vault::key_type::ed25519, bytes(32, static_cast<std::uint8_t>(0x70 + i))).value());
      vault::identity_change c{.public_key = v->public_key(keys.back()).value(), .created_at = 1'700'000'000 + i};
      if (i > 0) c.previous = vault::sha256(list.back().signed_content());
      c.self_signature = v->sign(keys.back(), c.signed_content()).value();
      if (i > 0) c.previous_signature = v->sign(keys[keys.size() - 2], c.signed_content()).value();
      list.push_back(std::move(c));
    }
    history = vault::change_history(std::move(list));
  }

  /// An attestation of `attested_static_key()` by the current primary key until `expires_at`.
  vault::attestation attest(std::int64_t expires_at) const {
    vault::attestation a{.change_hash = vault::sha256(history.changes().back().signed_content()),
                         .subject_key = attested_static_key(),
                         .expires_at = expires_at};
    a.signature = v->sign(keys.back(), vault::detail::attestation_signed_content(a.version, a.change_hash,
                                                                                 a.subject_key, expires_at))
                      .value();
    return a;
  }
};

inline vault::change_history history_of(const fixed_identity& id) { return id.history; }

/// The payload of handshake messages 2 and 3: [1, history, attestation] (channel_identity.cpp).
inline bytes handshake_payload(byte_view history, byte_view attestation) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  msgpack::packer<nodus::detail::byte_writer> pk(writer);
  pk.pack_array(3);
  pk.pack(std::uint8_t{1});
  pk.pack_bin(static_cast<std::uint32_t>(history.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(history.data()), static_cast<std::uint32_t>(history.size()));
  pk.pack_bin(static_cast<std::uint32_t>(attestation.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(attestation.data()), static_cast<std::uint32_t>(attestation.size()));
  return out;
}

}  // namespace nodus::fuzz
