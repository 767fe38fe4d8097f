#pragma once
/// How typed message bodies become payload bytes and back.

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <msgpack.hpp>

#include "nodus/core/bytes.hpp"
#include "nodus/core/result.hpp"

namespace nodus {
namespace detail {

/// A msgpack output stream that appends to `bytes` directly (msgpack's sbuffer would start with
/// an 8 KiB allocation and need a copy for every message).
struct byte_writer {
  bytes& out;
  void write(const char* data, std::size_t size) { out.insert(out.end(), data, data + size); }
};

/// A msgpack output stream into a fixed buffer that is known to be large enough.
struct fixed_writer {
  std::uint8_t* data;
  std::size_t capacity;
  std::size_t used = 0;
  void write(const char* from, std::size_t size) {
    if (size > capacity - used) throw std::length_error("message_codec: fixed buffer too small");
    std::memcpy(data + used, from, size);
    used += size;
  }
};

/// Unpacks exactly one msgpack value filling all of `data`, with every size limited by the
/// input length so a short input cannot ask for a large allocation. Never throws. Strings and
/// binaries in the result point into `data` (they are not copied), so use the result while
/// `data` lives.
result<msgpack::object_handle> unpack_bounded(byte_view data);
/// `unpack_bounded` into `zone`: the result lives there (and points into `data`).
result<msgpack::object> unpack_bounded(byte_view data, msgpack::zone& zone);

/// A msgpack zone for one decode, borrowed from this thread and cleared when the lease ends.
/// The thread's zone keeps its first chunk from one decode to the next, so decoding a small
/// body allocates nothing (a fresh zone mallocs an 8 KiB chunk, too large for glibc's thread
/// cache, and that large request also consolidates malloc's fast bins, which every message
/// paid for). A nested lease (a msgpack adaptor that decodes another body inside `convert`)
/// gets a zone of its own.
class zone_lease {
public:
  zone_lease();
  ~zone_lease();
  zone_lease(const zone_lease&) = delete;
  zone_lease& operator=(const zone_lease&) = delete;
  msgpack::zone& get() noexcept { return *zone_; }

private:
  msgpack::zone* zone_;
  bool borrowed_;
};

/// What a msgpack integer in `data` says: `decoded` when `data` is exactly one integer (any of
/// its encodings), `malformed` when it starts as one but is truncated or followed by more
/// bytes, `other` when it is not an integer (for the general decoder to judge).
struct msgpack_integer {
  enum { decoded, malformed, other } outcome = other;
  bool negative = false;  // then the value is `signed_value`, else `unsigned_value`
  std::uint64_t unsigned_value = 0;
  std::int64_t signed_value = 0;
};
msgpack_integer read_msgpack_integer(byte_view data) noexcept;

/// The integer `i` (not `other`) as an integral T, with msgpack's rules: out of T's range is
/// malformed.
template <class T>
result<T> integer_as(const msgpack_integer& i) noexcept {
  if (i.outcome != msgpack_integer::decoded) return errc::malformed;
  if (i.negative) {
    if constexpr (std::is_unsigned_v<T>) {
      return errc::malformed;
    } else {
      if (i.signed_value < static_cast<std::int64_t>(std::numeric_limits<T>::min())) return errc::malformed;
      return static_cast<T>(i.signed_value);
    }
  }
  if (i.unsigned_value > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return errc::malformed;
  return static_cast<T>(i.unsigned_value);
}

}  // namespace detail

/// Encodes and decodes message bodies of type T. The default uses msgpack, so any type msgpack
/// knows (strings, numbers, containers, structs with `MSGPACK_DEFINE`) can be a message.
/// Specialise it for a custom wire form.
template <class T>
struct message_codec {
  /// The payload bytes of `value`.
  static bytes encode(const T& value) {
    // An integer (at most 9 bytes) is packed on the stack and copied out in one allocation.
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      std::array<std::uint8_t, 9> buffer;
      detail::fixed_writer writer{buffer.data(), buffer.size()};
      msgpack::pack(writer, value);
      return bytes(buffer.data(), buffer.data() + writer.used);
    }
    bytes out;
    detail::byte_writer writer{out};
    msgpack::pack(writer, value);
    return out;
  }

  /// The value in `payload`, or `errc::malformed` when it is not a T.
  static result<T> decode(byte_view payload) {
    // Integers, the commonest small bodies, are read without msgpack's parser and zone.
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      const auto integer = detail::read_msgpack_integer(payload);
      if (integer.outcome != detail::msgpack_integer::other) return detail::integer_as<T>(integer);
    }
    detail::zone_lease zone;
    auto object = detail::unpack_bounded(payload, zone.get());
    if (!object) return object.error();
    try {
      return object.value().template as<T>();
    } catch (const std::exception&) {
      return errc::malformed;
    }
  }
};

/// Raw bytes pass through unchanged: the payload is the body.
template <>
struct message_codec<bytes> {
  static bytes encode(const bytes& value) { return value; }
  static result<bytes> decode(byte_view payload) { return bytes(payload.begin(), payload.end()); }
};

}  // namespace nodus
