#pragma once
/// The Noise XX handshake (Noise_XX_25519_{AESGCM,ChaChaPoly}_SHA256) as a pure state machine:
/// bytes in, bytes out, no I/O, no threads. Every secret (static, ephemeral, DH outputs, chaining
/// and cipher keys) stays inside the vault; the machine holds handles.
///
///   -> e
///   <- e, ee, s, es
///   -> s, se
///
/// Reference: The Noise Protocol Framework, revision 34 (noiseprotocol.org/noise.html).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/result.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::secure_channel {

/// The AEAD of a channel. AES-256-GCM is the default (docs/architecture.md, "Wire formats").
enum class cipher_suite : std::uint8_t { aes256_gcm = 1, chacha20_poly1305 = 2 };

/// "Noise_XX_25519_AESGCM_SHA256" or "Noise_XX_25519_ChaChaPoly_SHA256".
std::string noise_protocol_name(cipher_suite suite);

/// The longest Noise message (handshake or transport), from the specification.
inline constexpr std::size_t noise_max_message_size = 65535;

/// One direction's Noise CipherState after the handshake: a key and explicit 64-bit nonces
/// (the channel carries the nonce in each message, so a receiver can accept reordering).
class noise_cipher {
public:
  noise_cipher(vault::aead_cipher cipher, cipher_suite suite) : cipher_(std::move(cipher)), suite_(suite) {}

  /// ENCRYPT(k, nonce, ad, plaintext), appended to `out`.
  result<> seal(std::uint64_t nonce, byte_view ad, byte_view plaintext, bytes& out);
  /// DECRYPT(k, nonce, ad, ciphertext), appended to `out`; `vault::errc::authentication_failed`
  /// when the tag does not verify (then `out` is unchanged).
  result<> open(std::uint64_t nonce, byte_view ad, byte_view ciphertext, bytes& out);
  /// `seal` where the plaintext lies, followed by 16 spare bytes for the tag.
  result<> seal_in_place(std::uint64_t nonce, byte_view ad, std::span<std::uint8_t> text_and_tag);
  /// `open` where the ciphertext and tag lie; the plaintext is left at the front.
  result<> open_in_place(std::uint64_t nonce, byte_view ad, std::span<std::uint8_t> text_and_tag);
  /// Noise REKEY().
  result<> rekey() { return cipher_.rekey(); }
  /// An independent copy (same key, same suite).
  result<noise_cipher> clone() const {
    auto copy = cipher_.clone();
    if (!copy) return copy.error();
    return noise_cipher(std::move(copy.value()), suite_);
  }

private:
  vault::aead_cipher cipher_;
  cipher_suite suite_;
};

/// What a finished handshake hands to the channel.
struct noise_transport {
  noise_cipher send;
  noise_cipher receive;
  bytes handshake_hash;  ///< h: unique to this session, both sides agree on it
  bytes remote_static;   ///< the peer's X25519 static public key
};

/// The XX handshake for one side.
class noise_xx_handshake {
public:
  enum class role : std::uint8_t { initiator, responder };

  struct options {
    role side = role::initiator;
    cipher_suite suite = cipher_suite::aes256_gcm;
    vault::key_id static_key;                    ///< our X25519 static key, in the vault
    std::optional<vault::key_id> ephemeral_key;  ///< fixed ephemeral key (test vectors only)
    bytes prologue;                              ///< data both sides must agree on
  };

  /// A handshake at its first message. Fails if the static key is not an x25519 key.
  static result<noise_xx_handshake> create(std::shared_ptr<vault::vault> v, options o);

  noise_xx_handshake(noise_xx_handshake&&) noexcept;
  noise_xx_handshake& operator=(noise_xx_handshake&&) noexcept;
  ~noise_xx_handshake();  ///< removes the handshake's ephemeral keys from the vault

  /// Whether the next step is ours to write (else we expect to read).
  bool writes_next() const noexcept;
  /// Whether all three messages have been processed.
  bool complete() const noexcept;
  /// 0, 1 or 2 while in progress: the index of the next handshake message.
  int next_message() const noexcept;

  /// The next message, carrying `payload` (encrypted from message 2 on). Fails when it is the
  /// peer's turn, when the message would exceed `noise_max_message_size`, or on a vault error.
  result<bytes> write_message(byte_view payload);
  /// Processes the peer's message and returns its payload. A short or tampered message fails
  /// (`errc::malformed` / `vault::errc::authentication_failed`); the handshake is then dead.
  result<bytes> read_message(byte_view message);

  /// The peer's static public key: known to the initiator after message 2, to the responder
  /// after message 3.
  const bytes& remote_static() const noexcept;
  /// The current handshake hash h.
  const bytes& handshake_hash() const noexcept;

  /// The transport ciphers (send, receive) for our side; only once `complete()`.
  result<noise_transport> split();

  struct state;

private:
  explicit noise_xx_handshake(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace nodus::secure_channel
