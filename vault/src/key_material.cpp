#include "key_material.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace nodus::vault::detail {
namespace {

constexpr std::size_t fixed_key_size = 32;

int pkey_id(key_type type) noexcept { return type == key_type::x25519 ? EVP_PKEY_X25519 : EVP_PKEY_ED25519; }

bool is_asymmetric(key_type type) noexcept { return type == key_type::x25519 || type == key_type::ed25519; }

result<key_ptr> finish(key_type type, secret bytes, key_lifetime lifetime, shared_pkey pkey) {
  auto key = std::make_shared<key_material>();
  key->type = type;
  key->lifetime = lifetime;
  key->bytes = std::move(bytes);
  key->pkey = std::move(pkey);
  return key_ptr(std::move(key));
}

// Generating through OpenSSL (rather than drawing 32 random bytes) keeps key generation in
// the library's hands, e.g. a FIPS provider's own DRBG and self-tests.
result<key_ptr> generate_asymmetric(key_type type, key_lifetime lifetime) {
  evp_pkey_ptr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, type == key_type::x25519 ? "X25519" : "ED25519"));
  secret bytes(fixed_key_size);
  std::size_t size = bytes.size();
  if (!pkey || EVP_PKEY_get_raw_private_key(pkey.get(), bytes.data(), &size) != 1 || size != fixed_key_size) {
    clear_openssl_errors();
    return errc::crypto_failure;
  }
  return finish(type, std::move(bytes), lifetime, share(std::move(pkey)));
}

}  // namespace

std::string_view key_type_name(key_type type) noexcept {
  switch (type) {
    case key_type::x25519: return "x25519";
    case key_type::ed25519: return "ed25519";
    case key_type::aes256_gcm: return "aes256_gcm";
    case key_type::chacha20_poly1305: return "chacha20_poly1305";
    case key_type::secret_bytes: return "secret";
    case key_type::data_key: return "data_key";
  }
  return {};
}

result<key_ptr> make_key(key_type type, secret bytes, key_lifetime lifetime) {
  if (key_type_name(type).empty()) return errc::invalid_argument;
  if (type == key_type::secret_bytes) return finish(type, std::move(bytes), lifetime, nullptr);
  if (bytes.size() != fixed_key_size) return errc::invalid_key;
  if (!is_asymmetric(type)) return finish(type, std::move(bytes), lifetime, nullptr);
  evp_pkey_ptr pkey(EVP_PKEY_new_raw_private_key(pkey_id(type), nullptr, bytes.data(), bytes.size()));
  if (!pkey) {
    clear_openssl_errors();
    return errc::invalid_key;
  }
  return finish(type, std::move(bytes), lifetime, share(std::move(pkey)));
}

result<key_ptr> generate_key(key_type type, key_lifetime lifetime) {
  if (key_type_name(type).empty()) return errc::invalid_argument;
  if (is_asymmetric(type)) return generate_asymmetric(type, lifetime);
  // secret_bytes keys are generated with 32 bytes, like every other type.
  secret bytes(fixed_key_size);
  if (RAND_priv_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    clear_openssl_errors();
    return errc::crypto_failure;
  }
  return finish(type, std::move(bytes), lifetime, nullptr);
}

result<std::string> new_key_id(key_type type) {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof random) != 1) {
    clear_openssl_errors();
    return errc::crypto_failure;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(key_type_name(type));
  id += '-';
  for (unsigned char b : random) {
    id += digits[b >> 4];
    id += digits[b & 0xf];
  }
  return id;
}

bool valid_key_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64 || id.front() == '-') return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

}  // namespace nodus::vault::detail
