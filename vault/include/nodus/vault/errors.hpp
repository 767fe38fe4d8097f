#pragma once
/// Error codes of nodus::vault. Each maps onto a portable `nodus::condition`.

#include <system_error>

namespace nodus::vault {

enum class errc {
  unknown_key = 1,        ///< no key with that id in this vault
  wrong_key_type,         ///< the key exists but is not of the type the operation needs
  invalid_key,            ///< key bytes of the wrong size or not a valid key of the type
  weak_shared_secret,     ///< an X25519 agreement gave the all-zero secret (low-order peer key)
  authentication_failed,  ///< an AEAD tag or a signature did not verify
  invalid_argument,       ///< a nonce, size or other parameter out of range
  storage_failed,         ///< the vault directory or a key file could not be read or written
  corrupted_file,         ///< a key or identity file that does not decode (truncated, edited)
  insecure_permissions,   ///< a vault file or directory readable by others
  untrusted_identity,     ///< a change history or attestation that does not verify
  not_found,              ///< no identity with that name
  already_exists,         ///< an identity with that name exists already
  expired,                ///< an attestation past its expiry
  crypto_failure,         ///< OpenSSL reported an internal failure
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace nodus::vault

template <>
struct std::is_error_code_enum<nodus::vault::errc> : std::true_type {};
