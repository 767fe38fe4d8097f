#pragma once
/// Format-preserving encryption, NIST SP 800-38G Rev. 1: FF1 and FF3-1 over AES-128, -192 or -256.
///
/// A numeral string is a string of digits of a radix from 2 to 36 over the alphabet `0-9a-z`
/// (lowercase): radix 10 takes `0-9`, radix 16 `0-9a-f`, radix 36 `0-9a-z`. The ciphertext has
/// the same length and alphabet as the plaintext. Every function here is total: any input gives
/// a value or a `failure` whose reason says what is wrong (which character, which limit); none
/// throws. The limits (docs/fpe.md):
/// - both modes: radix 2..36, length at least `min_length(radix)` (radix^length >= 1 000 000);
/// - FF1: length at most `ff1_max_length`, tweak of 0 to `ff1_max_tweak_size` bytes;
/// - FF3-1: length at most `ff3_1_max_length(radix)` (2 * floor(log_radix(2^96))), tweak of
///   exactly `ff3_1_tweak_size` (7) bytes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/result.hpp"
#include "nodus/fpe/errors.hpp"

namespace nodus::fpe {

/// The smallest radix supported.
inline constexpr unsigned min_radix = 2;
/// The largest radix supported: the alphabet is `0-9a-z`.
inline constexpr unsigned max_radix = 36;
/// The longest numeral string FF1 takes (SP 800-38G lets an implementation pick maxlen <= 2^32).
inline constexpr std::size_t ff1_max_length = std::size_t{1} << 16;
/// The longest FF1 tweak taken, in bytes (the implementation's maxTlen).
inline constexpr std::size_t ff1_max_tweak_size = 256;
/// The size of every FF3-1 tweak, in bytes (56 bits).
inline constexpr std::size_t ff3_1_tweak_size = 7;
/// The size of an AES block, in bytes.
inline constexpr std::size_t block_size = 16;

/// The shortest numeral string either mode takes in `radix`: the smallest length with
/// radix^length >= 1 000 000 (and at least 2). 0 for an unsupported radix.
std::size_t min_length(unsigned radix) noexcept;
/// The longest numeral string FF3-1 takes in `radix`: 2 * floor(log_radix(2^96)), e.g. 56 for
/// radix 10, 36 for radix 36. 0 for an unsupported radix.
std::size_t ff3_1_max_length(unsigned radix) noexcept;

namespace detail {
class block_encryptor;
}

/// An AES key schedule in an OpenSSL ECB context: the block cipher FF1 and FF3-1 run on. The key
/// bytes go into OpenSSL and are not kept anywhere else. Move-only; a moved-from cipher holds no
/// key and every use of it is refused (`errc::invalid_key`).
class aes_block_cipher {
public:
  /// An AES-128, -192 or -256 cipher for a 16-, 24- or 32-byte key; any other size is refused.
  static result_or_failure<aes_block_cipher> from_key(byte_view key);
  /// The cipher keyed with the bytes of `key` in reverse order, REVB(K): the AES key FF3-1 runs
  /// with (SP 800-38G, FF3-1 step 4.iv). `ff3_1_cipher::from_key` uses it. The reversed copy is
  /// wiped before this returns.
  static result_or_failure<aes_block_cipher> from_reversed_key(byte_view key);

  aes_block_cipher(aes_block_cipher&& other) noexcept;
  aes_block_cipher& operator=(aes_block_cipher&& other) noexcept;
  aes_block_cipher(const aes_block_cipher&) = delete;
  aes_block_cipher& operator=(const aes_block_cipher&) = delete;
  ~aes_block_cipher();

  /// The key size in bytes: 16, 24 or 32; 0 for a moved-from cipher.
  std::size_t key_size() const noexcept;

  /// Encrypts one 16-byte block, `out = AES_K(in)` (`in` and `out` may be the same block).
  /// Uses this object's own context: not for concurrent calls on one object. (ff1_encrypt and the
  /// others work on a copy of the context, so they may share one `const` cipher across threads.)
  result<> encrypt_block(std::span<const std::uint8_t, block_size> in, std::span<std::uint8_t, block_size> out);

private:
  struct impl;
  explicit aes_block_cipher(std::unique_ptr<impl> state) noexcept;
  static result_or_failure<aes_block_cipher> make(byte_view key, bool reversed);
  friend class detail::block_encryptor;
  std::unique_ptr<impl> impl_;
};

/// The cipher FF3-1 takes: AES keyed with REVB(K), the key's bytes reversed, as SP 800-38G
/// specifies. A type of its own, so an FF1 cipher (keyed with K as it is) cannot be passed to
/// FF3-1 by mistake. Give `from_key` the key as written (as NIST's and ACVP's vectors print it).
class ff3_1_cipher {
public:
  /// The FF3-1 cipher of a 16-, 24- or 32-byte key K (AES keyed with REVB(K)).
  static result_or_failure<ff3_1_cipher> from_key(byte_view key);

  /// The AES cipher keyed with REVB(K).
  const aes_block_cipher& block_cipher() const noexcept { return cipher_; }

private:
  explicit ff3_1_cipher(aes_block_cipher cipher) noexcept : cipher_(std::move(cipher)) {}
  aes_block_cipher cipher_;
};

/// FF1 encryption (SP 800-38G, Algorithm 7) of `numeral_string`, a string of digits of `radix`,
/// under `tweak` (0 to `ff1_max_tweak_size` bytes). The result has the same length and radix.
result_or_failure<std::string> ff1_encrypt(const aes_block_cipher& cipher, byte_view tweak,
                                           std::string_view numeral_string, unsigned radix);
/// FF1 decryption (SP 800-38G, Algorithm 8): the inverse of `ff1_encrypt` under the same
/// cipher, tweak and radix.
result_or_failure<std::string> ff1_decrypt(const aes_block_cipher& cipher, byte_view tweak,
                                           std::string_view numeral_string, unsigned radix);

/// FF3-1 encryption (SP 800-38G Rev. 1, Algorithm 9) of `numeral_string`, a string of digits of
/// `radix` of `min_length(radix)` to `ff3_1_max_length(radix)` characters, under a 7-byte tweak.
result_or_failure<std::string> ff3_1_encrypt(const ff3_1_cipher& cipher, byte_view tweak,
                                             std::string_view numeral_string, unsigned radix);
/// FF3-1 decryption (SP 800-38G Rev. 1, Algorithm 10): the inverse of `ff3_1_encrypt`.
result_or_failure<std::string> ff3_1_decrypt(const ff3_1_cipher& cipher, byte_view tweak,
                                             std::string_view numeral_string, unsigned radix);

}  // namespace nodus::fpe
