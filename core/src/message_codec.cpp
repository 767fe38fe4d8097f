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
