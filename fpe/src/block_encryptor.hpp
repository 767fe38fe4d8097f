#pragma once
// A working copy of an aes_block_cipher's OpenSSL context, for one FF1 or FF3-1 call: EVP
// contexts are not safe to use from two threads at once, and the modes take their cipher as
// `const`, so each call encrypts with a copy of its own (one allocation per call, none per block).
// Private to fpe/src.

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "nodus/core/failure.hpp"
#include "nodus/fpe/fpe.hpp"

namespace nodus::fpe::detail {

struct cipher_ctx_deleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_deleter>;

class block_encryptor {
public:
  /// A copy of `cipher`'s context; refused when the cipher holds no key. `mode` names the caller
  /// in the failure's reason ("FF1", "FF3-1").
  static result_or_failure<block_encryptor> copy_of(const aes_block_cipher& cipher, std::string_view mode);

  /// Encrypts `blocks` whole blocks from `in` to `out` (ECB). False when OpenSSL fails.
  bool encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t blocks) noexcept;

private:
  explicit block_encryptor(cipher_ctx_ptr ctx) noexcept : ctx_(std::move(ctx)) {}
  cipher_ctx_ptr ctx_;
};

}  // namespace nodus::fpe::detail
