#pragma once
// Hash, MAC and key derivation on raw bytes, for the vault's own use (the public API applies
// them to keys behind handles). Private to vault/src.

#include <cstdint>
#include <initializer_list>
#include <span>

#include "nodus/core/bytes.hpp"

namespace nodus::vault::detail {

inline constexpr std::size_t sha256_size = 32;
inline constexpr std::size_t hkdf_max_output = 255 * sha256_size;

/// SHA-256 of the concatenation of `parts` into `out` (32 bytes). False if OpenSSL failed.
bool sha256_into(std::initializer_list<byte_view> parts, std::uint8_t* out) noexcept;

/// HMAC-SHA256 keyed by `key` (any length, empty included) of the concatenation of `parts`,
/// into `out` (32 bytes). False if OpenSSL failed.
bool hmac_sha256_into(byte_view key, std::initializer_list<byte_view> parts, std::uint8_t* out) noexcept;

/// RFC 5869 HKDF-SHA256 filling `okm` (at most hkdf_max_output bytes). An empty salt is
/// HashLen zero bytes, which HMAC treats exactly like the empty key.
bool hkdf_sha256_into(byte_view salt, byte_view ikm, byte_view info, std::span<std::uint8_t> okm) noexcept;

}  // namespace nodus::vault::detail
