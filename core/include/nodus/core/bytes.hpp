#pragma once
/// Owned and borrowed byte sequences.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nodus {

/// Owned bytes: payloads, encodings.
using bytes = std::vector<std::uint8_t>;
/// Borrowed bytes.
using byte_view = std::span<const std::uint8_t>;

/// The bytes of a string, borrowed.
inline byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// Bytes as one line of text: printable ASCII as is, every other byte (and the backslash, so the
/// rendering reads back unambiguously) as \xNN. For trace logs of payloads.
std::string printable(byte_view data);

}  // namespace nodus
