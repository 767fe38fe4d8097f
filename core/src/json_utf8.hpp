#pragma once
// UTF-8 as RFC 3629 defines it, shared by the JSON parser (which refuses ill-formed strings) and
// writer (which replaces them): no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nodus::json::detail {

/// What starts a text: a well-formed sequence of `length` bytes, or an ill-formed one whose
/// maximal subpart (the bytes to replace with one U+FFFD, Unicode 15 section 3.9) is `length`.
struct utf8_sequence {
  std::size_t length;
  bool valid;
};

/// The sequence at the front of `s`, which must not be empty.
inline utf8_sequence scan_utf8(std::string_view s) noexcept {
  const auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) return {1, true};
  // The number of continuation bytes and the range of the first one (Unicode's table 3-7).
  std::size_t more = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    more = 1;
  } else if (c >= 0xe0 && c <= 0xef) {
    more = 2;
    if (c == 0xe0) lo = 0xa0;  // overlong below U+0800
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    more = 3;
    if (c == 0xf0) lo = 0x90;  // overlong below U+10000
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return {1, false};  // a continuation byte, or a lead byte no valid sequence starts with
  }
  for (std::size_t i = 1; i <= more; ++i) {
    if (i >= s.size()) return {i, false};
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < lo || b > hi) return {i, false};
    lo = 0x80;
    hi = 0xbf;
  }
  return {more + 1, true};
}

/// Appends code point `cp` (not a surrogate, at most U+10FFFF) in UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace nodus::json::detail
