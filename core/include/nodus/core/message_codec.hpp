#pragma once
/// How typed message bodies become payload bytes and back.

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

/// Unpacks exactly one msgpack value filling all of `data`, with every size limited by the
/// input length so a short input cannot ask for a large allocation. Never throws. Strings and
/// binaries in the result point into `data` (they are not copied), so use the result while
/// `data` lives.
result<msgpack::object_handle> unpack_bounded(byte_view data);

}  // namespace detail

/// Encodes and decodes message bodies of type T. The default uses msgpack, so any type msgpack
/// knows (strings, numbers, containers, structs with `MSGPACK_DEFINE`) can be a message.
/// Specialise it for a custom wire form.
template <class T>
struct message_codec {
  /// The payload bytes of `value`.
  static bytes encode(const T& value) {
    bytes out;
    detail::byte_writer writer{out};
    msgpack::pack(writer, value);
    return out;
  }

  /// The value in `payload`, or `errc::malformed` when it is not a T.
  static result<T> decode(byte_view payload) {
    auto handle = detail::unpack_bounded(payload);
    if (!handle) return handle.error();
    try {
      return handle.value().get().template as<T>();
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
