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
