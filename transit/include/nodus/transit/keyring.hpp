#pragma once
/// The transit keys of a node: named, versioned AEAD keys whose secret bytes stay in the node's
/// vault, and what Vault's transit engine does with them (encrypt, decrypt, rewrap, HMAC).
///
/// Every version of a key is two persistent vault keys (the AEAD key and an HMAC key); the
/// keyring's state file (JSON, written atomically, mode 0600) holds only their vault ids and
/// each key's settings. A ciphertext is Vault's text, `vault:v<N>:<base64 of nonce || sealed>`,
/// with a random 96-bit nonce per encryption; a derived key (`derived`) seals under a key made
/// with HKDF-SHA256 from the version's key and the request's context (the context is the HKDF
/// info), so the same key name serves many tenants and a context opens only its own records.
/// Thread-safe.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/transit/errors.hpp"
#include "nodus/vault/secret.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::transit {

enum class key_type { aes256_gcm96, chacha20_poly1305 };

/// Vault's name of the type: "aes256-gcm96", "chacha20-poly1305".
std::string_view type_name(key_type t) noexcept;
/// The type Vault calls `name`; nothing for another name (Vault's signing and RSA types are not
/// served).
std::optional<key_type> parse_key_type(std::string_view name) noexcept;

/// True for a key name this keyring accepts: 1 to 128 characters of [A-Za-z0-9._-].
bool valid_key_name(std::string_view name) noexcept;

struct key_version_info {
  int version = 0;
  std::chrono::system_clock::time_point created;
};

/// A key's settings as Vault's `GET transit/keys/:name` shows them.
struct key_info {
  std::string name;
  key_type type = key_type::aes256_gcm96;
  bool derived = false;
  bool deletion_allowed = false;
  int latest_version = 0;
  int min_decryption_version = 1;          ///< ciphertexts of older versions are refused
  int min_encryption_version = 0;          ///< 0: encrypt with the latest; else the oldest version allowed
  int min_available_version = 1;           ///< versions below were trimmed (their keys are gone)
  std::vector<key_version_info> versions;  ///< from min_available_version to latest_version
};

/// What `configure` may change; an unset field keeps its value.
struct key_settings {
  std::optional<int> min_decryption_version;
  std::optional<int> min_encryption_version;
  std::optional<bool> deletion_allowed;
};

/// A ciphertext and the version that sealed it.
struct sealed_text {
  std::string ciphertext;
  int key_version = 0;
};

class keyring {
public:
  /// Opens the keyring kept in `state_file` (created on first change), its keys in `keys`.
  /// A state file that does not parse, or names a vault key that is missing, is an error
  /// naming the file and the key.
  static result_or_failure<std::shared_ptr<keyring>> open(std::shared_ptr<vault::vault> keys,
                                                          std::filesystem::path state_file);
  ~keyring();
  keyring(const keyring&) = delete;
  keyring& operator=(const keyring&) = delete;

  /// A new key with version 1. Creating a key that exists changes nothing (as Vault does) and
  /// is not an error; `created` says which happened.
  result_or_failure<key_info> create(std::string_view name, key_type type, bool derived, bool* created = nullptr);
  result_or_failure<key_info> read(std::string_view name) const;
  std::vector<std::string> names() const;
  /// A new latest version; the older ones still decrypt (down to min_decryption_version).
  result_or_failure<key_info> rotate(std::string_view name);
  result_or_failure<key_info> configure(std::string_view name, const key_settings& settings);
  /// Forgets every version (their vault keys deleted); refused unless deletion_allowed.
  result_or_failure<> remove(std::string_view name);
  /// Deletes the versions below `min_available_version` for good; it may not exceed
  /// min_decryption_version or min_encryption_version.
  result_or_failure<key_info> trim(std::string_view name, int min_available_version);

  /// Seals `plaintext` with version `key_version` (0: the latest). `context` is required for a
  /// derived key and refused for another; `associated_data` is bound to the ciphertext and must
  /// be given again to decrypt.
  result_or_failure<sealed_text> encrypt(std::string_view name, byte_view plaintext, byte_view context,
                                         int key_version = 0, byte_view associated_data = {}) const;
  /// The plaintext of a `vault:vN:` ciphertext, or a reason Vault would give (wrong format,
  /// version too old or unknown, authentication failed).
  result_or_failure<vault::secret> decrypt(std::string_view name, std::string_view ciphertext, byte_view context,
                                           byte_view associated_data = {}) const;
  /// Decrypts and seals again with `key_version` (0: the latest), without the plaintext leaving.
  result_or_failure<sealed_text> rewrap(std::string_view name, std::string_view ciphertext, byte_view context,
                                        int key_version = 0) const;
  /// HMAC-SHA256 of `input` with the version's HMAC key, as `vault:vN:<base64>`.
  result_or_failure<std::string> hmac(std::string_view name, byte_view input, int key_version = 0) const;
  /// Whether `mac` (as `hmac` gives it) is the HMAC of `input`; a malformed `mac` is an error.
  result_or_failure<bool> verify_hmac(std::string_view name, byte_view input, std::string_view mac) const;

  struct state;

private:
  explicit keyring(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace nodus::transit
