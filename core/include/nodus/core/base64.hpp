#pragma once
/// Base64 (RFC 4648): the standard alphabet with padding (Vault's and Kafka tools' text, sealed
/// JSON fields) and the URL-safe alphabet without padding (tickets, project files). Decoding is
/// strict: anything but the canonical text of some bytes gives nothing.

#include <optional>
#include <string>
#include <string_view>

#include "nodus/core/bytes.hpp"

namespace nodus {

/// Standard alphabet (`+/`), padded with `=` to a multiple of 4 characters.
std::string base64_encode(byte_view data);
/// The bytes of standard padded base64; nothing for any other text (wrong length, a character
/// outside the alphabet, data after padding, non-zero unused bits).
std::optional<bytes> base64_decode(std::string_view text);

/// URL-safe alphabet (`-_`), no padding.
std::string base64url_encode(byte_view data);
/// The bytes of unpadded base64url; nothing for any other text (non-canonical trailing bits
/// included).
std::optional<bytes> base64url_decode(std::string_view text);

}  // namespace nodus
