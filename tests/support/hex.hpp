#pragma once
// Bytes from hex text, as test vectors print them.

#include <string_view>

#include "nodus/core/bytes.hpp"

namespace nodus::test {

/// The bytes of `text`, two hex digits each (either case; no spaces).
inline bytes hex(std::string_view text) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  return out;
}

}  // namespace nodus::test
