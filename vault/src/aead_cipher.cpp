// AEAD seal/open on cipher contexts keyed once: per message only the nonce changes, so the
// AES key schedule (or ChaCha20 key setup) is not redone on the secure channel's hot path.
#include <openssl/evp.h>

#include <array>
#include <climits>

#include "key_table.hpp"
#include "nodus/vault/secret.hpp"
#include "openssl_ptr.hpp"

namespace nodus::vault {
namespace {

constexpr std::size_t max_part = INT_MAX - aead_tag_size;  // EVP lengths are ints

const EVP_CIPHER* cipher_of(key_type type) noexcept {
  return type == key_type::aes256_gcm ? detail::aes256_gcm_cipher() : detail::chacha20_poly1305_cipher();
}

// EVP treats a null input as "no data"; spans of size 0 may carry a null pointer.
const unsigned char* ptr(byte_view v) noexcept {
  static const unsigned char empty = 0;
  return v.data() != nullptr ? v.data() : &empty;
}

bool feed(EVP_CIPHER_CTX* ctx, unsigned char* out, byte_view in, int& written) noexcept {
  written = 0;
  if (in.empty()) return true;
  return EVP_CipherUpdate(ctx, out, &written, ptr(in), static_cast<int>(in.size())) == 1;
}

}  // namespace

struct aead_cipher::impl {
  key_type algorithm;
  detail::evp_cipher_ctx_ptr encrypt{EVP_CIPHER_CTX_new()};
  detail::evp_cipher_ctx_ptr decrypt{EVP_CIPHER_CTX_new()};

  bool set_key(const std::uint8_t* key) noexcept {
    return encrypt && decrypt &&
           EVP_CipherInit_ex2(encrypt.get(), cipher_of(algorithm), key, nullptr, 1, nullptr) == 1 &&
           EVP_CipherInit_ex2(decrypt.get(), cipher_of(algorithm), key, nullptr, 0, nullptr) == 1;
  }

  // Writes plaintext.size() + 16 bytes at `out`.
  bool seal(byte_view nonce, byte_view aad, byte_view plaintext, std::uint8_t* out) noexcept {
    EVP_CIPHER_CTX* ctx = encrypt.get();
    int n = 0, final_n = 0;
    return EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 1, nullptr) == 1 && feed(ctx, nullptr, aad, n) &&
           feed(ctx, out, plaintext, n) && EVP_CipherFinal_ex(ctx, out + n, &final_n) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, aead_tag_size, out + plaintext.size()) == 1;
  }

  // Writes ciphertext.size() bytes at `out`; true only if the tag verified.
  bool open(byte_view nonce, byte_view aad, byte_view ciphertext, byte_view tag, std::uint8_t* out) noexcept {
    EVP_CIPHER_CTX* ctx = decrypt.get();
    std::array<unsigned char, aead_tag_size> tag_copy;  // the ctrl takes a non-const pointer
    std::copy(tag.begin(), tag.end(), tag_copy.begin());
    int n = 0, final_n = 0;
    return EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 0, nullptr) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, aead_tag_size, tag_copy.data()) == 1 &&
           feed(ctx, nullptr, aad, n) && feed(ctx, out, ciphertext, n) &&
           EVP_CipherFinal_ex(ctx, out + n, &final_n) == 1;
  }
};

aead_cipher::aead_cipher(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
aead_cipher::aead_cipher(aead_cipher&&) noexcept = default;
aead_cipher& aead_cipher::operator=(aead_cipher&&) noexcept = default;
aead_cipher::~aead_cipher() = default;  // EVP_CIPHER_CTX_free wipes the key schedule

key_type aead_cipher::algorithm() const noexcept { return impl_->algorithm; }

result<> aead_cipher::seal(byte_view nonce, byte_view aad, byte_view plaintext, bytes& out) {
  if (nonce.size() != aead_nonce_size || aad.size() > max_part || plaintext.size() > max_part)
    return errc::invalid_argument;
  const std::size_t old_size = out.size();
  out.resize(old_size + plaintext.size() + aead_tag_size);
  if (!impl_->seal(nonce, aad, plaintext, out.data() + old_size)) {
    out.resize(old_size);
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return ok();
}

result<> aead_cipher::open(byte_view nonce, byte_view aad, byte_view ciphertext_and_tag, bytes& out) {
  if (nonce.size() != aead_nonce_size || aad.size() > max_part || ciphertext_and_tag.size() > max_part)
    return errc::invalid_argument;
  if (ciphertext_and_tag.size() < aead_tag_size) return errc::authentication_failed;
  const std::size_t text_size = ciphertext_and_tag.size() - aead_tag_size;
  const std::size_t old_size = out.size();
  out.resize(old_size + text_size);
  if (!impl_->open(nonce, aad, ciphertext_and_tag.first(text_size), ciphertext_and_tag.subspan(text_size),
                   out.data() + old_size)) {
    // Unauthenticated plaintext must not linger in the caller's spare capacity.
    wipe_bytes(out.data() + old_size, text_size);
    out.resize(old_size);
    detail::clear_openssl_errors();
    return errc::authentication_failed;
  }
  return ok();
}

result<> aead_cipher::seal_in_place(byte_view nonce, byte_view aad, std::span<std::uint8_t> text_and_tag) {
  if (nonce.size() != aead_nonce_size || aad.size() > max_part || text_and_tag.size() > max_part ||
      text_and_tag.size() < aead_tag_size)
    return errc::invalid_argument;
  const auto text = text_and_tag.first(text_and_tag.size() - aead_tag_size);
  if (!impl_->seal(nonce, aad, text, text_and_tag.data())) {  // EVP allows in == out for AEADs
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return ok();
}

result<> aead_cipher::open_in_place(byte_view nonce, byte_view aad, std::span<std::uint8_t> text_and_tag) {
  if (nonce.size() != aead_nonce_size || aad.size() > max_part || text_and_tag.size() > max_part)
    return errc::invalid_argument;
  if (text_and_tag.size() < aead_tag_size) return errc::authentication_failed;
  const std::size_t text_size = text_and_tag.size() - aead_tag_size;
  if (!impl_->open(nonce, aad, text_and_tag.first(text_size), text_and_tag.subspan(text_size), text_and_tag.data())) {
    wipe_bytes(text_and_tag.data(), text_size);  // unauthenticated plaintext must not linger
    detail::clear_openssl_errors();
    return errc::authentication_failed;
  }
  return ok();
}

result<> aead_cipher::rekey() {
  static constexpr std::array<std::uint8_t, aead_nonce_size> max_nonce{0,    0,    0,    0,    0xff, 0xff,
                                                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static constexpr std::array<std::uint8_t, 32> zeros{};
  secret sealed(zeros.size() + aead_tag_size);
  if (!impl_->seal(max_nonce, {}, zeros, sealed.data()) || !impl_->set_key(sealed.data())) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return ok();
}

result<aead_cipher> aead_cipher::clone() const {
  // Copying the contexts copies the current key (after any rekey) without it leaving OpenSSL.
  auto p = std::make_unique<impl>();
  p->algorithm = impl_->algorithm;
  if (!p->encrypt || !p->decrypt || EVP_CIPHER_CTX_copy(p->encrypt.get(), impl_->encrypt.get()) != 1 ||
      EVP_CIPHER_CTX_copy(p->decrypt.get(), impl_->decrypt.get()) != 1) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return aead_cipher(std::move(p));
}

result<aead_cipher> vault::aead(const key_id& key) const {
  auto found = impl_->find(key, {key_type::aes256_gcm, key_type::chacha20_poly1305});
  if (!found) return found.error();
  auto p = std::make_unique<aead_cipher::impl>();
  p->algorithm = found.value()->type;
  if (!p->set_key(found.value()->bytes.data())) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return aead_cipher(std::move(p));
}

}  // namespace nodus::vault
