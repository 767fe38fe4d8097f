#pragma once
// What the vault keeps per key, and how keys are made and checked. Private to vault/src.

#include <memory>
#include <string>
#include <string_view>

#include "nodus/vault/secret.hpp"
#include "nodus/vault/vault.hpp"
#include "openssl_ptr.hpp"

namespace nodus::vault::detail {

/// One key. Immutable once built, so operations can use it outside the vault's lock while
/// another thread removes it from the table.
struct key_material {
  key_type type = key_type::secret_bytes;
  key_lifetime lifetime = key_lifetime::ephemeral;
  secret bytes;
  /// The OpenSSL key of an x25519 or ed25519 key, built once: loading a raw private key
  /// computes its public key, which would double the cost of every agreement or signature.
  shared_pkey pkey;
};

using key_ptr = std::shared_ptr<const key_material>;

/// "x25519", "ed25519", "aes256_gcm", "chacha20_poly1305", "secret", "data_key"; empty for an unknown value.
std::string_view key_type_name(key_type type) noexcept;

/// A key of `type` from `bytes`: 32 bytes for every type but secret_bytes, and for x25519 and
/// ed25519 bytes OpenSSL accepts as a private key (errc::invalid_key otherwise).
result<key_ptr> make_key(key_type type, secret bytes, key_lifetime lifetime);

/// A fresh random key of `type`.
result<key_ptr> generate_key(key_type type, key_lifetime lifetime);

/// A new id for a key of `type`: its name, '-', 16 random hex digits.
result<std::string> new_key_id(key_type type);

/// True for texts new_key_id can produce (and that are safe as a file name): 1 to 64 of
/// [a-z0-9_-], not starting with '-'.
bool valid_key_id(std::string_view id) noexcept;

}  // namespace nodus::vault::detail
