#pragma once
// Lower-case hex of bytes: token accessors, request ids, random bytes in hex.

#include <string>

#include "nodus/core/bytes.hpp"

namespace nodus::transit::detail {

inline std::string hex_text(byte_view b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (auto x : b) {
    out += digits[x >> 4];
    out += digits[x & 15];
  }
  return out;
}

}  // namespace nodus::transit::detail
