// Public-data primitives (SHA-256, Ed25519 verification, randomness) and the raw HMAC/HKDF
// the vault applies to its keys.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "nodus/vault/secret.hpp"
#include "nodus/vault/vault.hpp"
#include "openssl_crypto.hpp"
#include "openssl_ptr.hpp"

namespace nodus::vault {
namespace detail {
namespace {

// A failure of OpenSSL where the API has no error channel (sha256, random_bytes) means the
// library is unusable; carrying on with unhashed or non-random bytes would be worse than
// stopping.
[[noreturn]] void fatal(const char* what) noexcept {
  std::fprintf(stderr, "nodus::vault: OpenSSL failed in %s\n", what);
  std::abort();
}

template <class T>
T* fetched_or_fatal(T* algorithm, const char* name) noexcept {
  if (algorithm == nullptr) fatal(name);
  return algorithm;
}

bool mac_update(EVP_MAC_CTX* ctx, std::initializer_list<byte_view> parts) noexcept {
  for (byte_view part : parts)
    if (!part.empty() && EVP_MAC_update(ctx, part.data(), part.size()) != 1) return false;
  return true;
}

// EVP_MAC_init treats a null key as "keep the previous key", which a new context lacks; any
// non-null pointer with length 0 is the empty key.
const unsigned char* key_pointer(byte_view key) noexcept {
  static const unsigned char empty = 0;
  return key.empty() ? &empty : key.data();
}

evp_mac_ctx_ptr new_hmac(byte_view key) noexcept {
  evp_mac_ctx_ptr ctx(EVP_MAC_CTX_new(hmac_mac()));
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
                         OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), key_pointer(key), key.size(), params) != 1) return nullptr;
  return ctx;
}

bool mac_final(EVP_MAC_CTX* ctx, std::uint8_t* out) noexcept {
  std::size_t size = 0;
  return EVP_MAC_final(ctx, out, &size, sha256_size) == 1 && size == sha256_size;
}

}  // namespace

const EVP_MD* sha256_md() noexcept {
  static EVP_MD* md = fetched_or_fatal(EVP_MD_fetch(nullptr, "SHA256", nullptr), "SHA256 fetch");
  return md;
}

EVP_MAC* hmac_mac() noexcept {
  static EVP_MAC* mac = fetched_or_fatal(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "HMAC fetch");
  return mac;
}

const EVP_CIPHER* aes256_gcm_cipher() noexcept {
  static EVP_CIPHER* c = fetched_or_fatal(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), "AES-256-GCM fetch");
  return c;
}

const EVP_CIPHER* chacha20_poly1305_cipher() noexcept {
  static EVP_CIPHER* c =
      fetched_or_fatal(EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr), "ChaCha20-Poly1305 fetch");
  return c;
}

void clear_openssl_errors() noexcept { ERR_clear_error(); }

bool sha256_into(std::initializer_list<byte_view> parts, std::uint8_t* out) noexcept {
  evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) != 1) return false;
  for (byte_view part : parts)
    if (!part.empty() && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return false;
  unsigned int size = 0;
  return EVP_DigestFinal_ex(ctx.get(), out, &size) == 1 && size == sha256_size;
}

bool hmac_sha256_into(byte_view key, std::initializer_list<byte_view> parts, std::uint8_t* out) noexcept {
  auto ctx = new_hmac(key);
  return ctx && mac_update(ctx.get(), parts) && mac_final(ctx.get(), out);
}

bool hkdf_sha256_into(byte_view salt, byte_view ikm, byte_view info, std::span<std::uint8_t> okm) noexcept {
  if (okm.size() > hkdf_max_output) return false;
  secret prk(sha256_size);
  if (!hmac_sha256_into(salt, {ikm}, prk.data())) return false;
  auto ctx = new_hmac(prk.view());
  if (!ctx) return false;
  secret block(sha256_size);
  std::size_t block_size = 0;  // T(0) is empty
  for (std::size_t done = 0, i = 1; done < okm.size(); ++i) {
    const std::uint8_t counter = static_cast<std::uint8_t>(i);
    // Reinitialising with a null key restarts HMAC under the same key (PRK).
    if (i > 1 && EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1) return false;
    if (!mac_update(ctx.get(), {{block.data(), block_size}, info, {&counter, 1}}) ||
        !mac_final(ctx.get(), block.data()))
      return false;
    block_size = sha256_size;
    const std::size_t n = std::min(sha256_size, okm.size() - done);
    std::copy_n(block.data(), n, okm.data() + done);
    done += n;
  }
  return true;
}

}  // namespace detail

bytes sha256(byte_view data) {
  bytes out(detail::sha256_size);
  if (!detail::sha256_into({data}, out.data())) detail::fatal("SHA-256");
  return out;
}

bool verify_ed25519(byte_view public_key, byte_view message, byte_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  detail::evp_pkey_ptr pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  detail::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  // Ed25519 hashes internally: no digest is named, and the message goes in one call.
  const bool ok = pkey && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
  if (!ok) detail::clear_openssl_errors();
  return ok;
}

bytes random_bytes(std::size_t size) {
  bytes out(size);
  // RAND_bytes takes an int; draw large requests in pieces.
  for (std::size_t done = 0; done < size;) {
    const std::size_t n = std::min<std::size_t>(size - done, 1 << 20);
    if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) detail::fatal("RAND_bytes");
    done += n;
  }
  return out;
}

}  // namespace nodus::vault
