#pragma once
// Private helpers shared by the identity encodings (changes, histories, attestations, store
// records): strict msgpack field readers, a packer that appends to `bytes`, hex, and the
// translation of vault error codes into failures with a reason.

#include <chrono>
#include <cstdint>
#include <limits>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <system_error>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/message_codec.hpp"

namespace nodus::vault::detail {

/// The version written first in the encodings of histories and of identity records.
inline constexpr std::uint8_t identity_encoding_version = 1;

/// The version written first in an attestation's encoding. Version 1 had no change hash.
inline constexpr std::uint8_t attestation_encoding_version = 2;

/// The only version of identity_change contents that this build can verify.
inline constexpr std::uint8_t change_content_version = 1;

/// The only version of attestation contents that this build can verify (bound to a change).
inline constexpr std::uint8_t attestation_content_version = 2;

/// Ed25519 and SHA-256 sizes.
inline constexpr std::size_t public_key_size = 32;
inline constexpr std::size_t signature_size = 64;
inline constexpr std::size_t hash_size = 32;

using packer = msgpack::packer<nodus::detail::byte_writer>;

inline void pack_bin(packer& pk, byte_view b) {
  pk.pack_bin(static_cast<std::uint32_t>(b.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
}

inline void pack_str(packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

// The readers accept exactly one msgpack type each (no str-for-bin, no float-for-int), so an
// encoding has one meaning only.

inline bool read_bin(const msgpack::object& o, bytes& out) {
  if (o.type != msgpack::type::BIN) return false;
  const auto* p = reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr);
  out.assign(p, p + o.via.bin.size);
  return true;
}

inline bool read_str(const msgpack::object& o, std::string& out) {
  if (o.type != msgpack::type::STR) return false;
  out.assign(o.via.str.ptr, o.via.str.size);
  return true;
}

inline bool read_uint(const msgpack::object& o, std::uint64_t max, std::uint64_t& out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > max) return false;
  out = o.via.u64;
  return true;
}

inline bool read_int64(const msgpack::object& o, std::int64_t& out) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    out = o.via.i64;
    return true;
  }
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  if (o.via.u64 > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
  out = static_cast<std::int64_t>(o.via.u64);
  return true;
}

/// A msgpack array of exactly `size` elements, or null.
inline const msgpack::object* array_of(const msgpack::object& o, std::size_t size) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size != size) return nullptr;
  return o.via.array.ptr;
}

inline std::string to_hex(byte_view b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto c : b) {
    s.push_back(digits[c >> 4]);
    s.push_back(digits[c & 0x0f]);
  }
  return s;
}

/// Seconds since the Unix epoch.
inline std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// A vault call's error code with a sentence saying what was being done.
inline auto fail_from(std::error_code ec, const std::string& doing) { return fail(ec, doing + ": " + ec.message()); }

}  // namespace nodus::vault::detail
