#pragma once
// msgpack helpers of the authority's decoders (private): typed, bounded reads of one field.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "nodus/authority/credential.hpp"
#include "nodus/core/message_codec.hpp"

namespace nodus::authority::detail {

using packer = msgpack::packer<nodus::detail::byte_writer>;
using object = msgpack::object;

inline void pack_text(packer& p, std::string_view s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

inline void pack_bin(packer& p, byte_view b) {
  p.pack_bin(static_cast<std::uint32_t>(b.size()));
  p.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
}

inline void pack_attributes(packer& p, const attribute_map& a) {
  p.pack_map(static_cast<std::uint32_t>(a.size()));
  for (const auto& [name, value] : a) {
    pack_text(p, name);
    pack_text(p, value);
  }
}

/// The fields of an array of exactly `n` elements, or null.
inline const object* fields(const object& o, std::size_t n) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size != n) return nullptr;
  return o.via.array.ptr;
}

inline std::optional<std::uint64_t> unsigned_of(const object& o, std::uint64_t max) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > max) return std::nullopt;
  return o.via.u64;
}

/// Milliseconds since the epoch, 0 to 2100-01-01, so that the clock's nanoseconds cannot overflow.
inline std::optional<std::int64_t> millis_of(const object& o) {
  constexpr std::uint64_t latest_ms = 4102444800000;
  auto v = unsigned_of(o, latest_ms);
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

inline std::optional<std::string> text_of(const object& o, std::size_t max) {
  if (o.type != msgpack::type::STR || o.via.str.size > max) return std::nullopt;
  return std::string(o.via.str.ptr, o.via.str.size);
}

inline std::optional<byte_view> bin_of(const object& o, std::size_t max) {
  if (o.type != msgpack::type::BIN || o.via.bin.size > max) return std::nullopt;
  return byte_view(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr), o.via.bin.size);
}

/// An attribute map: keys strictly increasing, every pair valid; the problem otherwise.
inline std::optional<std::string> attributes_of(const object& o, attribute_map& out) {
  if (o.type != msgpack::type::MAP) return "the attributes are not a map";
  if (o.via.map.size > max_attributes) return "more than 64 attributes";
  const std::string* previous = nullptr;
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    auto name = text_of(o.via.map.ptr[i].key, max_attribute_name_size);
    auto value = text_of(o.via.map.ptr[i].val, max_attribute_value_size);
    if (!name || !value) return "attribute " + std::to_string(i + 1) + " is not a name and a value of text in bounds";
    if (auto problem = attribute_problem(*name, *value)) return *problem;
    if (previous && !(*previous < *name)) return "the attributes are not in strictly increasing order of name";
    previous = &out.emplace(std::move(*name), std::move(*value)).first->first;
  }
  return std::nullopt;
}

}  // namespace nodus::authority::detail
