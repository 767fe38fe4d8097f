#include "nodus/core/message_codec.hpp"

#include <memory>

namespace nodus::detail {
namespace {

// The zone `zone_lease` lends on this thread, and whether a lease holds it now.
struct thread_zone {
  msgpack::zone zone;
  bool leased = false;
};
thread_local thread_zone this_thread_zone;

}  // namespace

zone_lease::zone_lease() {
  auto& mine = this_thread_zone;
  borrowed_ = !mine.leased;
  if (borrowed_) {
    mine.leased = true;
    zone_ = &mine.zone;
  } else {
    zone_ = new msgpack::zone;
  }
}

zone_lease::~zone_lease() {
  if (!borrowed_) {
    delete zone_;
    return;
  }
  zone_->clear();  // runs the finalizers and frees every chunk but the first
  this_thread_zone.leased = false;
}

msgpack_integer read_msgpack_integer(byte_view data) noexcept {
  msgpack_integer out;
  if (data.empty()) return out;
  const std::uint8_t head = data[0];
  std::size_t width = 0;  // bytes after the head
  bool is_signed = false;
  if (head <= 0x7f || head >= 0xe0) {  // positive or negative fixint
    if (data.size() != 1) {
      out.outcome = msgpack_integer::malformed;  // trailing bytes
      return out;
    }
    out.outcome = msgpack_integer::decoded;
    out.negative = head >= 0xe0;
    out.signed_value = static_cast<std::int8_t>(head);
    out.unsigned_value = head;
    return out;
  }
  switch (head) {
    case 0xcc: width = 1; break;  // uint 8 .. 64
    case 0xcd: width = 2; break;
    case 0xce: width = 4; break;
    case 0xcf: width = 8; break;
    case 0xd0: width = 1, is_signed = true; break;  // int 8 .. 64
    case 0xd1: width = 2, is_signed = true; break;
    case 0xd2: width = 4, is_signed = true; break;
    case 0xd3: width = 8, is_signed = true; break;
    default: return out;  // not an integer
  }
  if (data.size() != 1 + width) {  // truncated, or trailing bytes
    out.outcome = msgpack_integer::malformed;
    return out;
  }
  std::uint64_t raw = 0;
  for (std::size_t i = 1; i <= width; ++i) raw = (raw << 8) | data[i];  // big-endian
  out.outcome = msgpack_integer::decoded;
  if (!is_signed) {
    out.unsigned_value = raw;
    return out;
  }
  // Sign-extend from `width` bytes; msgpack counts a non-negative signed encoding as positive.
  const unsigned shift = static_cast<unsigned>(64 - 8 * width);
  const auto value = static_cast<std::int64_t>(raw << shift) >> shift;
  out.negative = value < 0;
  out.signed_value = value;
  out.unsigned_value = static_cast<std::uint64_t>(value);
  return out;
}

result<msgpack::object> unpack_bounded(byte_view data, msgpack::zone& zone) {
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
    auto object = msgpack::unpack(zone, reinterpret_cast<const char*>(data.data()), n, offset, referenced,
                                  reference_in_place, nullptr, limits);
    if (offset != n) return errc::malformed;  // trailing bytes
    return object;
  } catch (const msgpack::size_overflow&) {
    return errc::too_large;
  } catch (const std::exception&) {
    return errc::malformed;
  }
}

result<msgpack::object_handle> unpack_bounded(byte_view data) {
  auto zone = std::make_unique<msgpack::zone>();
  auto object = unpack_bounded(data, *zone);
  if (!object) return object.error();
  return msgpack::object_handle(object.value(), std::move(zone));
}

}  // namespace nodus::detail
