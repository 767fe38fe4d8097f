#pragma once
// Owning pointers for the OpenSSL objects the vault uses, and the algorithms it fetches once.
// Private to vault/src: no OpenSSL type may appear in a public header.

#include <openssl/evp.h>

#include <memory>

namespace nodus::vault::detail {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using evp_pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using evp_cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, openssl_deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using evp_mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, openssl_deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;

/// A key shared by the vault's table and operations running outside its lock. OpenSSL allows
/// concurrent use of one EVP_PKEY for signing and deriving once it is fully built.
using shared_pkey = std::shared_ptr<EVP_PKEY>;

inline shared_pkey share(evp_pkey_ptr p) { return shared_pkey(p.release(), EVP_PKEY_free); }

// Algorithms fetched once per process: an implicit fetch by name on every call (EVP_sha256(),
// EVP_aes_256_gcm() in OpenSSL 3) costs a method-store lookup under a lock.
const EVP_MD* sha256_md() noexcept;
EVP_MAC* hmac_mac() noexcept;
const EVP_CIPHER* aes256_gcm_cipher() noexcept;
const EVP_CIPHER* chacha20_poly1305_cipher() noexcept;

/// Forgets the errors OpenSSL queued on this thread after a failure we report as a value, so a
/// stream of bad input (forged tags, bad signatures) does not leave stale entries behind.
void clear_openssl_errors() noexcept;

}  // namespace nodus::vault::detail
