// AES in an OpenSSL ECB context without padding: exactly CIPH_K of SP 800-38G on whole blocks.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <new>
#include <string>

#include "block_encryptor.hpp"
#include "nodus/fpe/fpe.hpp"

namespace nodus::fpe {

struct aes_block_cipher::impl {
  detail::cipher_ctx_ptr ctx;
  std::size_t key_size = 0;
};

namespace {

const EVP_CIPHER* ecb_for(std::size_t key_size) noexcept {
  switch (key_size) {
    case 16: return EVP_aes_128_ecb();
    case 24: return EVP_aes_192_ecb();
    case 32: return EVP_aes_256_ecb();
    default: return nullptr;
  }
}

// Forgets what OpenSSL queued on this thread: the failure is reported as a value.
auto openssl_failure(std::string what) {
  ERR_clear_error();
  return fail(errc::crypto_failure, "fpe: OpenSSL failed to " + std::move(what));
}

}  // namespace

aes_block_cipher::aes_block_cipher(std::unique_ptr<impl> state) noexcept : impl_(std::move(state)) {}
aes_block_cipher::aes_block_cipher(aes_block_cipher&& other) noexcept = default;
aes_block_cipher& aes_block_cipher::operator=(aes_block_cipher&& other) noexcept = default;
aes_block_cipher::~aes_block_cipher() = default;  // EVP_CIPHER_CTX_free wipes the key schedule

result_or_failure<aes_block_cipher> aes_block_cipher::from_key(byte_view key) { return make(key, false); }
result_or_failure<aes_block_cipher> aes_block_cipher::from_reversed_key(byte_view key) { return make(key, true); }

// A function-try-block: an allocation that fails is a failure too, never an exception.
result_or_failure<aes_block_cipher> aes_block_cipher::make(byte_view key, bool reversed) try {
  const EVP_CIPHER* cipher = ecb_for(key.size());
  if (cipher == nullptr)
    return fail(errc::invalid_key,
                "fpe: an AES key of " + std::to_string(key.size()) + " bytes: it must be 16, 24 or 32 bytes");
  auto state = std::make_unique<impl>();
  state->ctx.reset(EVP_CIPHER_CTX_new());
  if (!state->ctx) return openssl_failure("allocate a cipher context");
  std::array<std::uint8_t, 32> reversed_key{};
  if (reversed) std::reverse_copy(key.begin(), key.end(), reversed_key.begin());
  const bool keyed =
      EVP_EncryptInit_ex(state->ctx.get(), cipher, nullptr, reversed ? reversed_key.data() : key.data(), nullptr) == 1;
  OPENSSL_cleanse(reversed_key.data(), reversed_key.size());
  if (!keyed || EVP_CIPHER_CTX_set_padding(state->ctx.get(), 0) != 1) return openssl_failure("set up AES-ECB");
  state->key_size = key.size();
  return aes_block_cipher(std::move(state));
} catch (const std::bad_alloc&) {
  return failure(std::make_error_code(std::errc::not_enough_memory));
}

std::size_t aes_block_cipher::key_size() const noexcept { return impl_ ? impl_->key_size : 0; }

result<> aes_block_cipher::encrypt_block(std::span<const std::uint8_t, block_size> in,
                                         std::span<std::uint8_t, block_size> out) {
  if (!impl_) return make_error_code(errc::invalid_key);
  int written = 0;
  if (EVP_EncryptUpdate(impl_->ctx.get(), out.data(), &written, in.data(), static_cast<int>(block_size)) != 1 ||
      written != static_cast<int>(block_size)) {
    ERR_clear_error();
    return make_error_code(errc::crypto_failure);
  }
  return ok();
}

result_or_failure<ff3_1_cipher> ff3_1_cipher::from_key(byte_view key) {
  auto cipher = aes_block_cipher::from_reversed_key(key);
  if (!cipher) return cipher.as_failure();
  return ff3_1_cipher(std::move(cipher).value());
}

namespace detail {

result_or_failure<block_encryptor> block_encryptor::copy_of(const aes_block_cipher& cipher, std::string_view mode) {
  if (!cipher.impl_)
    return fail(errc::invalid_key, "fpe: " + std::string(mode) + " with a cipher that holds no key (moved from)");
  cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CIPHER_CTX_copy(ctx.get(), cipher.impl_->ctx.get()) != 1)
    return openssl_failure("copy the cipher context");
  return block_encryptor(std::move(ctx));
}

bool block_encryptor::encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t blocks) noexcept {
  if (blocks > static_cast<std::size_t>(INT_MAX) / block_size) return false;
  const int size = static_cast<int>(blocks * block_size);
  int written = 0;
  if (EVP_EncryptUpdate(ctx_.get(), out, &written, in, size) != 1 || written != size) {
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace detail
}  // namespace nodus::fpe
