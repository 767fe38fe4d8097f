#pragma once
// The two ends of a Noise XX handshake with fixed static and ephemeral keys, shared by the
// noise_handshake target and the corpus generator: the honest messages are the same in every
// run, so the corpus can hold them.

#include <array>
#include <cstdlib>
#include <memory>

#include "nodus/secure_channel/noise.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::fuzz {

/// The payloads the honest sides put in handshake messages 1, 2 and 3.
inline const std::array<bytes, 3> honest_payloads{bytes{}, bytes{'r', 'e', 's', 'p'}, bytes{'i', 'n', 'i', 't'}};

/// One vault holding both sides' fixed keys.
struct noise_keys {
  std::shared_ptr<vault::vault> v = vault::vault::create_in_memory();
  vault::key_id initiator_static = import(0x11), initiator_ephemeral = import(0x22);
  vault::key_id responder_static = import(0x33), responder_ephemeral = import(0x44);
  bytes initiator_public = v->public_key(initiator_static).value();
  bytes responder_public = v->public_key(responder_static).value();
  std::size_t count = v->list().size();  ///< keys in the vault between handshakes

  vault::key_id import(std::uint8_t fill) { return v->import_secret(vault::key_type::x25519, bytes(32, fill)).value(); }
};

inline noise_keys& fixed_keys() {
  static noise_keys k;
  return k;
}

/// A handshake for `side` with the fixed keys.
inline secure_channel::noise_xx_handshake start(secure_channel::noise_xx_handshake::role side,
                                                secure_channel::cipher_suite suite) {
  auto& k = fixed_keys();
  const bool initiator = side == secure_channel::noise_xx_handshake::role::initiator;
  secure_channel::noise_xx_handshake::options o{side, suite, initiator ? k.initiator_static : k.responder_static,
                                                initiator ? k.initiator_ephemeral : k.responder_ephemeral,
                                                bytes{'f', 'u', 'z', 'z'}};
  auto h = secure_channel::noise_xx_handshake::create(k.v, std::move(o));
  if (!h) std::abort();
  return std::move(h.value());
}

}  // namespace nodus::fuzz
