#include "nodus/core/message_codec.hpp"

namespace nodus::detail {

result<msgpack::object_handle> unpack_bounded(byte_view data) {
  // Every array or map element takes at least one byte of input, so limiting counts and
  // lengths to the input size bounds what msgpack may allocate before it notices truncation.
  const std::size_t n = data.size();
  const msgpack::unpack_limit limits(n, n, n, n, n, 32);
  std::size_t offset = 0;
  try {
    // Reference strings and binaries in place: copying them into the zone would cost a copy
    // (and an allocation) of every payload, only for callers to copy them out again.
    const auto reference_in_place = [](msgpack::type::object_type, std::size_t, void*) { return true; };
    bool referenced = false;
    auto handle = msgpack::unpack(reinterpret_cast<const char*>(data.data()), n, offset, referenced, reference_in_place,
                                  nullptr, limits);
    if (offset != n) return errc::malformed;  // trailing bytes
    return handle;
  } catch (const msgpack::size_overflow&) {
    return errc::too_large;
  } catch (const std::exception&) {
    return errc::malformed;
  }
}

}  // namespace nodus::detail
