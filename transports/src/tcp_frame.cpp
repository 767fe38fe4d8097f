#include "nodus/transports/tcp_frame.hpp"

#include <algorithm>
#include <cstring>

namespace nodus::tcp_frame {
namespace {

std::uint32_t read_prefix(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

std::span<const address> hops(const route& r) { return {r.begin(), r.end()}; }

}  // namespace

std::size_t body_size(const local_message& m) {
  auto onward = hops(m.onward_route);
  if (!onward.empty()) onward = onward.subspan(1);
  return encoded_size(m.kind, onward, hops(m.return_route), m.payload.size());
}

result<> append_head(const transport_message& m, std::size_t max_frame_size, bytes& out) {
  const auto body = encoded_size(m.kind, hops(m.onward_route), hops(m.return_route), m.payload.size());
  if (body > max_frame_size) return errc::too_large;
  for (std::size_t i = 0; i < length_prefix_size; ++i)
    out.push_back(static_cast<std::uint8_t>(body >> (8 * (length_prefix_size - 1 - i))));
  encode_head_append(m.kind, hops(m.onward_route), hops(m.return_route), m.payload.size(), out);
  return ok();
}

decoder::decoder(std::size_t max_frame_size) : max_frame_size_(max_frame_size), staging_(staging_start) {}

namespace {

// Makes `b` `size` bytes long, allocating exactly that: the vector's own growth could allocate
// up to twice what is asked for.
void grow_to(bytes& b, std::size_t size) {
  b.reserve(size);
  b.resize(size);
}

// The next size of a buffer that is full with `filled` bytes: twice that (at least `floor`),
// never more than `limit`. Doubling keeps the copies on growing to one per byte, on average.
std::size_t doubled(std::size_t filled, std::size_t floor, std::size_t limit) {
  return std::min(limit, std::max(2 * filled, floor));
}

}  // namespace

std::span<std::uint8_t> decoder::buffer() {
  if (large_) {
    if (large_filled_ == large_->size()) grow_to(*large_, doubled(large_filled_, first_large_buffer, large_size_));
    return std::span(*large_).subspan(large_filled_);
  }
  if (staging_filled_ && staging_.size() < staging_size) grow_to(staging_, std::min(staging_size, 2 * staging_.size()));
  staging_filled_ = false;
  auto free = std::span(staging_).subspan(end_);
  return last_was_large_ ? free.first(std::min(free.size(), read_after_large)) : free;
}

result<> decoder::commit(std::size_t n) {
  if (failed_) return errc::malformed;
  if (large_) {
    large_filled_ += n;
    return ok();
  }
  if (!version_ && n > 0) {
    version_ = staging_[end_];
    if (*version_ != protocol_version) {
      failed_ = true;
      return errc::unsupported_version;
    }
    ++begin_;  // the version byte is not part of any frame
  }
  end_ += n;
  staging_filled_ = end_ == staging_.size();  // a busy stream, or a frame that needs more room
  return ok();
}

std::size_t decoder::buffered_capacity() const noexcept { return staging_.capacity() + large_frame_capacity(); }

std::size_t decoder::large_frame_capacity() const noexcept {
  return (large_ ? large_->capacity() : 0) + (large_head_ ? large_head_->capacity() : 0);
}

result<transport_message> decode(frame f, const decode_limits& limits) {
  if (f.payload) return decode_transport_message(f.body, std::move(*f.payload), limits);
  return decode_transport_message(std::move(f.body), limits);
}

result<std::optional<frame>> decoder::next_frame() {
  using maybe_frame = std::optional<frame>;
  if (failed_) return errc::malformed;
  if (large_) {
    if (large_filled_ < large_size_) return maybe_frame();
    frame done = large_head_ ? frame{std::move(*large_head_), std::move(large_)} : frame{std::move(*large_), {}};
    large_.reset();
    large_head_.reset();
    last_was_large_ = true;
    return maybe_frame(std::move(done));
  }
  const auto staged = end_ - begin_;
  if (staged >= length_prefix_size) {
    const std::size_t body = read_prefix(staging_.data() + begin_);
    if (body > max_frame_size_) {
      failed_ = true;
      return errc::too_large;
    }
    if (staged >= length_prefix_size + body) {  // a whole frame is staged
      const auto first = staging_.begin() + static_cast<std::ptrdiff_t>(begin_ + length_prefix_size);
      frame done{bytes(first, first + static_cast<std::ptrdiff_t>(body)), {}};
      last_was_large_ = false;
      begin_ += length_prefix_size + body;
      if (begin_ == end_) begin_ = end_ = 0;
      return maybe_frame(std::move(done));
    }
    if (length_prefix_size + body > staging_size && start_large(body)) return maybe_frame();
  }
  // Incomplete: move what is staged to the front, so the rest of the frame has room after it.
  if (begin_ > 0) {
    std::memmove(staging_.data(), staging_.data() + begin_, staged);
    begin_ = 0;
    end_ = staged;
  }
  return maybe_frame();
}

// A frame too big to stage stays staged until its head has arrived, and then its payload gets a
// buffer of its own; or, when no sound head fills the staging area, its whole body does (so
// that decoding the whole body can say what is wrong with it). Either buffer starts small.
bool decoder::start_large(std::size_t body) {
  const byte_view arrived(staging_.data() + begin_ + length_prefix_size, end_ - begin_ - length_prefix_size);
  const auto head = find_head(arrived);
  if (!head && end_ - begin_ < staging_size) return false;  // wait for the head, or for a full staging area
  const bool apart = head && head->length + head->payload_size == body;
  const std::size_t head_size = apart ? head->length : 0;
  if (apart) large_head_.emplace(arrived.begin(), arrived.begin() + static_cast<std::ptrdiff_t>(head_size));
  large_size_ = apart ? head->payload_size : body;
  large_filled_ = arrived.size() - head_size;
  large_.emplace();
  grow_to(*large_, doubled(large_filled_, first_large_buffer, large_size_));
  std::memcpy(large_->data(), arrived.data() + head_size, large_filled_);
  begin_ = end_ = 0;
  return true;
}

}  // namespace nodus::tcp_frame
