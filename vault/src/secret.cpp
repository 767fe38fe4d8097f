#include "nodus/vault/secret.hpp"

#include <openssl/crypto.h>

namespace nodus::vault {

void wipe_bytes(void* data, std::size_t size) noexcept {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

}  // namespace nodus::vault
