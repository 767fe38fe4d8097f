#include "nodus/core/random.hpp"

#include <cstdio>
#include <exception>
#include <vector>

#include <openssl/rand.h>

namespace nodus {

std::string random_hex(std::string_view prefix, std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::vector<unsigned char> raw(bytes);
  if (bytes > 0 && RAND_bytes(raw.data(), static_cast<int>(bytes)) != 1) {
    std::fputs("nodus: OpenSSL's random generator failed; cannot make unguessable names\n", stderr);
    std::terminate();
  }
  std::string text(prefix);
  text.reserve(prefix.size() + 2 * bytes);
  for (const auto b : raw) {
    text.push_back(digits[b >> 4]);
    text.push_back(digits[b & 0xf]);
  }
  return text;
}

}  // namespace nodus
