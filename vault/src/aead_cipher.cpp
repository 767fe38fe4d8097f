// AEAD seal/open on cipher contexts keyed once: per message only the nonce changes, so the
// AES key schedule (or ChaCha20 key setup) is not redone on the secure channel's hot path.
//
// Per message, the EVP layer of OpenSSL 3.0 asks the provider for the IV length and the
// padding through OSSL_PARAM arrays (names compared with strcmp) and goes through
// EVP_CIPHER_CTX_ctrl for the tag: for a 64-byte message that is about a third of the time of a
// seal. So the contexts are the provider's own, driven through the functions its dispatch table
// gives (the public provider interface, openssl/core_dispatch.h); EVP_CIPHER_CTX is used only
// when the provider does not offer all of them.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <array>
#include <climits>
#include <string_view>

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

// The functions of the provider's implementation of one AEAD, as its dispatch table gives them.
struct provider_cipher {
  void* provctx = nullptr;
  OSSL_FUNC_cipher_newctx_fn* newctx = nullptr;
  OSSL_FUNC_cipher_freectx_fn* freectx = nullptr;
  OSSL_FUNC_cipher_dupctx_fn* dupctx = nullptr;
  OSSL_FUNC_cipher_encrypt_init_fn* encrypt_init = nullptr;
  OSSL_FUNC_cipher_decrypt_init_fn* decrypt_init = nullptr;
  OSSL_FUNC_cipher_update_fn* update = nullptr;
  OSSL_FUNC_cipher_final_fn* final = nullptr;
  OSSL_FUNC_cipher_get_ctx_params_fn* get_ctx_params = nullptr;
  OSSL_FUNC_cipher_set_ctx_params_fn* set_ctx_params = nullptr;

  bool complete() const noexcept {
    return provctx && newctx && freectx && dupctx && encrypt_init && decrypt_init && update && final &&
           get_ctx_params && set_ctx_params;
  }
};

bool names_include(std::string_view names, std::string_view wanted) noexcept {
  while (!names.empty()) {
    const auto colon = names.find(':');
    const auto name = names.substr(0, colon);
    if (name.size() == wanted.size()) {
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        same = lower(name[i]) == lower(wanted[i]);
      }
      if (same) return true;
    }
    if (colon == std::string_view::npos) break;
    names.remove_prefix(colon + 1);
  }
  return false;
}

// The implementation the vault's fetched cipher resolved to, found again in its provider's
// table of ciphers by name; incomplete (so EVP is used) when anything is missing.
provider_cipher look_up(const EVP_CIPHER* cipher) noexcept {
  provider_cipher found;
  const OSSL_PROVIDER* provider = EVP_CIPHER_get0_provider(cipher);
  const char* name = EVP_CIPHER_get0_name(cipher);
  if (provider == nullptr || name == nullptr) return found;
  int no_store = 0;
  const OSSL_ALGORITHM* algorithms = OSSL_PROVIDER_query_operation(provider, OSSL_OP_CIPHER, &no_store);
  for (const auto* a = algorithms; a != nullptr && a->algorithm_names != nullptr; ++a) {
    if (!names_include(a->algorithm_names, name) || a->implementation == nullptr) continue;
    for (const auto* f = a->implementation; f->function_id != 0; ++f) {
      switch (f->function_id) {
        case OSSL_FUNC_CIPHER_NEWCTX: found.newctx = OSSL_FUNC_cipher_newctx(f); break;
        case OSSL_FUNC_CIPHER_FREECTX: found.freectx = OSSL_FUNC_cipher_freectx(f); break;
        case OSSL_FUNC_CIPHER_DUPCTX: found.dupctx = OSSL_FUNC_cipher_dupctx(f); break;
        case OSSL_FUNC_CIPHER_ENCRYPT_INIT: found.encrypt_init = OSSL_FUNC_cipher_encrypt_init(f); break;
        case OSSL_FUNC_CIPHER_DECRYPT_INIT: found.decrypt_init = OSSL_FUNC_cipher_decrypt_init(f); break;
        case OSSL_FUNC_CIPHER_UPDATE: found.update = OSSL_FUNC_cipher_update(f); break;
        case OSSL_FUNC_CIPHER_FINAL: found.final = OSSL_FUNC_cipher_final(f); break;
        case OSSL_FUNC_CIPHER_GET_CTX_PARAMS: found.get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(f); break;
        case OSSL_FUNC_CIPHER_SET_CTX_PARAMS: found.set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(f); break;
        default: break;
      }
    }
    break;
  }
  if (algorithms != nullptr) OSSL_PROVIDER_unquery_operation(provider, OSSL_OP_CIPHER, algorithms);
  found.provctx = OSSL_PROVIDER_get0_provider_ctx(provider);
  return found;
}

// Looked up once per process; null when the provider's table lacks a function (then EVP).
// The fetched ciphers are never freed, so their provider stays loaded.
const provider_cipher* direct_of(key_type type) noexcept {
  static const provider_cipher aes = look_up(detail::aes256_gcm_cipher());
  static const provider_cipher chacha = look_up(detail::chacha20_poly1305_cipher());
  const auto& p = type == key_type::aes256_gcm ? aes : chacha;
  return p.complete() ? &p : nullptr;
}

}  // namespace

struct aead_cipher::impl {
  key_type algorithm;
  // The provider's contexts (when `direct`), else EVP's.
  const provider_cipher* direct = nullptr;
  void* direct_encrypt = nullptr;
  void* direct_decrypt = nullptr;
  detail::evp_cipher_ctx_ptr encrypt;
  detail::evp_cipher_ctx_ptr decrypt;

  explicit impl(key_type type) : algorithm(type), direct(direct_of(type)) {}
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() {  // the providers' freectx wipe the key schedule, as EVP_CIPHER_CTX_free does
    if (direct_encrypt != nullptr) direct->freectx(direct_encrypt);
    if (direct_decrypt != nullptr) direct->freectx(direct_decrypt);
  }

  bool make_contexts() noexcept {
    if (direct != nullptr) {
      direct_encrypt = direct->newctx(direct->provctx);
      direct_decrypt = direct->newctx(direct->provctx);
      return direct_encrypt != nullptr && direct_decrypt != nullptr;
    }
    encrypt.reset(EVP_CIPHER_CTX_new());
    decrypt.reset(EVP_CIPHER_CTX_new());
    return encrypt && decrypt;
  }

  bool copy_contexts(const impl& from) noexcept {
    if (direct != nullptr) {
      direct_encrypt = direct->dupctx(from.direct_encrypt);
      direct_decrypt = direct->dupctx(from.direct_decrypt);
      return direct_encrypt != nullptr && direct_decrypt != nullptr;
    }
    encrypt.reset(EVP_CIPHER_CTX_new());
    decrypt.reset(EVP_CIPHER_CTX_new());
    return encrypt && decrypt && EVP_CIPHER_CTX_copy(encrypt.get(), from.encrypt.get()) == 1 &&
           EVP_CIPHER_CTX_copy(decrypt.get(), from.decrypt.get()) == 1;
  }

  bool set_key(const std::uint8_t* key) noexcept {
    if (direct != nullptr)
      return direct->encrypt_init(direct_encrypt, key, 32, nullptr, 0, nullptr) == 1 &&
             direct->decrypt_init(direct_decrypt, key, 32, nullptr, 0, nullptr) == 1;
    return EVP_CipherInit_ex2(encrypt.get(), cipher_of(algorithm), key, nullptr, 1, nullptr) == 1 &&
           EVP_CipherInit_ex2(decrypt.get(), cipher_of(algorithm), key, nullptr, 0, nullptr) == 1;
  }

  // Writes plaintext.size() + 16 bytes at `out`.
  bool seal(byte_view nonce, byte_view aad, byte_view plaintext, std::uint8_t* out) noexcept {
    if (direct != nullptr) return direct_seal(nonce, aad, plaintext, out);
    EVP_CIPHER_CTX* ctx = encrypt.get();
    int n = 0, final_n = 0;
    return EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 1, nullptr) == 1 && feed(ctx, nullptr, aad, n) &&
           feed(ctx, out, plaintext, n) && EVP_CipherFinal_ex(ctx, out + n, &final_n) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, aead_tag_size, out + plaintext.size()) == 1;
  }

  // Writes ciphertext.size() bytes at `out`; true only if the tag verified.
  bool open(byte_view nonce, byte_view aad, byte_view ciphertext, byte_view tag, std::uint8_t* out) noexcept {
    std::array<unsigned char, aead_tag_size> tag_copy;  // the ctrl takes a non-const pointer
    std::copy(tag.begin(), tag.end(), tag_copy.begin());
    if (direct != nullptr) return direct_open(nonce, aad, ciphertext, tag_copy, out);
    EVP_CIPHER_CTX* ctx = decrypt.get();
    int n = 0, final_n = 0;
    return EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 0, nullptr) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, aead_tag_size, tag_copy.data()) == 1 &&
           feed(ctx, nullptr, aad, n) && feed(ctx, out, ciphertext, n) &&
           EVP_CipherFinal_ex(ctx, out + n, &final_n) == 1;
  }

private:
  // What EVP_CipherUpdate does for a provider cipher of block size 1: room for `in.size()`.
  bool direct_feed(void* ctx, unsigned char* out, byte_view in) const noexcept {
    if (in.empty()) return true;
    std::size_t written = 0;
    return direct->update(ctx, out, &written, in.size(), in.data(), in.size()) == 1 &&
           (out == nullptr || written == in.size());
  }

  bool direct_seal(byte_view nonce, byte_view aad, byte_view plaintext, std::uint8_t* out) const noexcept {
    void* ctx = direct_encrypt;
    std::size_t final_n = 0;
    if (direct->encrypt_init(ctx, nullptr, 0, nonce.data(), nonce.size(), nullptr) != 1 ||
        !direct_feed(ctx, nullptr, aad) || !direct_feed(ctx, out, plaintext) ||
        direct->final(ctx, out + plaintext.size(), &final_n, 0) != 1 || final_n != 0)
      return false;
    OSSL_PARAM get_tag[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + plaintext.size(), aead_tag_size),
        OSSL_PARAM_construct_end()};
    return direct->get_ctx_params(ctx, get_tag) == 1;
  }

  bool direct_open(byte_view nonce, byte_view aad, byte_view ciphertext, std::array<unsigned char, aead_tag_size>& tag,
                   std::uint8_t* out) const noexcept {
    void* ctx = direct_decrypt;
    OSSL_PARAM set_tag[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
                            OSSL_PARAM_construct_end()};
    std::size_t final_n = 0;
    return direct->decrypt_init(ctx, nullptr, 0, nonce.data(), nonce.size(), nullptr) == 1 &&
           direct->set_ctx_params(ctx, set_tag) == 1 && direct_feed(ctx, nullptr, aad) &&
           direct_feed(ctx, out, ciphertext) && direct->final(ctx, out + ciphertext.size(), &final_n, 0) == 1 &&
           final_n == 0;
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
  auto p = std::make_unique<impl>(impl_->algorithm);
  if (!p->copy_contexts(*impl_)) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return aead_cipher(std::move(p));
}

result<aead_cipher> vault::aead(const key_id& key) const {
  auto found = impl_->find(key, {key_type::aes256_gcm, key_type::chacha20_poly1305});
  if (!found) return found.error();
  auto p = std::make_unique<aead_cipher::impl>(found.value()->type);
  if (!p->make_contexts() || !p->set_key(found.value()->bytes.data())) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return aead_cipher(std::move(p));
}

}  // namespace nodus::vault
