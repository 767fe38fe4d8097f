#pragma once
/// The vault: keys behind handles. Secret bytes stay inside; only public keys, signatures,
/// MACs and ciphertexts come out.

#include <compare>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/result.hpp"
#include "nodus/vault/errors.hpp"
#include "nodus/vault/secret.hpp"

namespace nodus::vault {

/// What a key is and what it may be used for.
enum class key_type : std::uint8_t {
  x25519 = 1,             ///< 32-byte private scalar; Diffie-Hellman (Noise static and ephemeral keys)
  ed25519 = 2,            ///< 32-byte private seed; signatures (identity keys)
  aes256_gcm = 3,         ///< 32-byte AEAD key
  chacha20_poly1305 = 4,  ///< 32-byte AEAD key
  secret_bytes = 5,       ///< any length; HMAC/HKDF input (Noise chaining keys, DH outputs)
  /// 32 bytes to hand to an authorised peer (the data keys of encrypted Kafka records): the only
  /// type whose bytes `export_data_key` reads out; usable as HMAC/HKDF input like secret_bytes.
  data_key = 6,
};

/// Ephemeral keys live in memory only; persistent ones are also written to the vault directory
/// (in an in-memory vault both live in memory).
enum class key_lifetime : std::uint8_t { ephemeral, persistent };

/// The handle of a key in one vault. Printable; a persistent key keeps its id across restarts.
struct key_id {
  std::string value;
  auto operator<=>(const key_id&) const = default;
};

/// One key to derive with HKDF: its type and length (32 for every type but `secret_bytes`).
struct derived_key {
  key_type type = key_type::secret_bytes;
  std::size_t size = 32;
};

inline constexpr std::size_t aead_nonce_size = 12;
inline constexpr std::size_t aead_tag_size = 16;

/// An AEAD key made ready for many seal/open calls: the cipher contexts are set up once.
/// Obtained from `vault::aead`; holds its own copy of the key inside OpenSSL and wipes it on
/// destruction. Not thread-safe: one per direction of a channel.
class aead_cipher {
public:
  aead_cipher(aead_cipher&&) noexcept;
  aead_cipher& operator=(aead_cipher&&) noexcept;
  ~aead_cipher();

  key_type algorithm() const noexcept;

  /// Appends ciphertext followed by the 16-byte tag to `out`. `nonce` is 12 bytes.
  result<> seal(byte_view nonce, byte_view aad, byte_view plaintext, bytes& out);
  /// Appends the plaintext of `ciphertext_and_tag` to `out`, or fails with
  /// `errc::authentication_failed` leaving `out` as it was.
  result<> open(byte_view nonce, byte_view aad, byte_view ciphertext_and_tag, bytes& out);
  /// The same as `seal` without a second buffer: `text_and_tag` holds the plaintext followed by
  /// 16 spare bytes; the plaintext is encrypted where it is and the tag written after it.
  result<> seal_in_place(byte_view nonce, byte_view aad, std::span<std::uint8_t> text_and_tag);
  /// The same as `open` without a second buffer: `text_and_tag` holds ciphertext then tag; on
  /// success its first `size() - 16` bytes are the plaintext, on failure they are zeroed.
  result<> open_in_place(byte_view nonce, byte_view aad, std::span<std::uint8_t> text_and_tag);
  /// Noise REKEY(): the new key is the first 32 bytes of sealing 32 zero bytes under nonce
  /// 2^64-1 (4 zero bytes then 8 bytes 0xff), empty aad.
  result<> rekey();
  /// An independent cipher with the same key (a receiver keeps the previous key while trying
  /// the next one).
  result<aead_cipher> clone() const;

  struct impl;

private:
  friend class vault;
  explicit aead_cipher(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

class known_identities;
class identity_store;

/// A store of keys used through `key_id` handles. Thread-safe. Secret bytes stay inside, but
/// for `data_key` keys, which exist to be handed over (`export_data_key`).
///
/// A directory vault keeps persistent keys as one file each (`<dir>/keys/<id>`, mode 0600,
/// written atomically) in a directory created with mode 0700. A file that is corrupted,
/// truncated or readable by others is an error naming the file; nothing is regenerated.
/// The directory is opened once: every later file operation goes through its descriptor and
/// never follows a symbolic link, and writes are refused once the path no longer names the
/// directory opened (moved, or swapped for a link).
class vault {
public:
  /// A vault whose keys all live in memory (tests, short-lived programs).
  static std::shared_ptr<vault> create_in_memory();
  /// Opens (creating if needed) the vault in `directory` and checks every file in it.
  /// Refused with a reason: `directory` a symbolic link, open to group or others, or owned by
  /// another user; its parent directory writable by group or others, unless the parent has the
  /// sticky bit and belongs to root or to this user (as /tmp does).
  static result_or_failure<std::shared_ptr<vault>> open_directory(const std::filesystem::path& directory);

  vault(const vault&) = delete;
  vault& operator=(const vault&) = delete;
  ~vault();

  /// The directory of a directory vault; empty for an in-memory one.
  const std::filesystem::path& directory() const noexcept;

  /// The latest change history seen per peer identifier, kept with this vault (in memory for an
  /// in-memory vault, under `<dir>/known/` for a directory vault); see identity.hpp.
  known_identities& known() noexcept;

  /// A new random key.
  result_or_failure<key_id> generate(key_type type, key_lifetime lifetime = key_lifetime::ephemeral);
  /// A key from bytes brought from elsewhere (test vectors, migration). `secret_bytes` may have
  /// any length (0 included), the other types exactly 32.
  result_or_failure<key_id> import_secret(key_type type, byte_view secret,
                                          key_lifetime lifetime = key_lifetime::ephemeral);
  /// Forgets a key (and deletes its file).
  result_or_failure<> remove(const key_id& id);
  /// Every key id, in order.
  std::vector<key_id> list() const;
  result<key_type> type_of(const key_id& id) const;

  /// A copy of the 32 bytes of a `data_key` key, for a custodian to send over a secure channel;
  /// `errc::wrong_key_type` for every other type (their bytes never leave the vault).
  result<secret> export_data_key(const key_id& id) const;

  /// The 32-byte public key of an x25519 or ed25519 key.
  result<bytes> public_key(const key_id& id) const;

  /// X25519 agreement of a private key with a peer's 32-byte public key; the shared secret stays
  /// in the vault as an ephemeral `secret_bytes` key. The all-zero secret (a low-order peer
  /// key) is refused with `errc::weak_shared_secret`.
  result<key_id> x25519_agree(const key_id& private_key, byte_view peer_public_key);

  /// Ed25519 signature (64 bytes) of `message` with an ed25519 key.
  result<bytes> sign(const key_id& ed25519_key, byte_view message);

  /// HMAC-SHA256 of `data` keyed by any key (its secret bytes are the HMAC key).
  result<bytes> hmac_sha256(const key_id& key, byte_view data) const;

  /// RFC 5869 HKDF-SHA256 with `salt`'s bytes as salt and `input` as input key material (none:
  /// empty). The output key material is cut into consecutive keys as `outputs` says; they are
  /// ephemeral. With an empty `info` this is Noise's HKDF(chaining_key, input, n).
  /// More than 255 * 32 bytes in total, or a `data_key` output (its bytes could be read out), is
  /// `errc::invalid_argument`.
  result<std::vector<key_id>> hkdf_sha256(const key_id& salt, const std::optional<key_id>& input, byte_view info,
                                          std::span<const derived_key> outputs);

  /// A cipher for an aes256_gcm or chacha20_poly1305 key.
  result<aead_cipher> aead(const key_id& key) const;

  struct impl;

private:
  friend class identity_store;  // keeps its files in the vault's directory, through its descriptor
  explicit vault(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// SHA-256 of public data.
bytes sha256(byte_view data);
/// True when `signature` is a valid Ed25519 signature of `message` by `public_key` (32 bytes).
bool verify_ed25519(byte_view public_key, byte_view message, byte_view signature);
/// `size` random bytes from OpenSSL's CSPRNG (not secret material: nonces, ids, names).
bytes random_bytes(std::size_t size);

}  // namespace nodus::vault
