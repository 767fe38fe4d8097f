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
  return encoded_size(onward, hops(m.return_route), m.payload.size());
}

result<> append_head(const transport_message& m, std::size_t max_frame_size, bytes& out) {
  const auto body = encoded_size(hops(m.onward_route), hops(m.return_route), m.payload.size());
  if (body > max_frame_size) return errc::too_large;
  for (std::size_t i = 0; i < length_prefix_size; ++i)
    out.push_back(static_cast<std::uint8_t>(body >> (8 * (length_prefix_size - 1 - i))));
  encode_head_append(hops(m.onward_route), hops(m.return_route), m.payload.size(), out);
  return ok();
}

decoder::decoder(std::size_t max_frame_size) : max_frame_size_(max_frame_size), staging_(staging_size) {}

std::span<std::uint8_t> decoder::buffer() {
  if (large_) return std::span(*large_).subspan(large_filled_);
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
  return ok();
}

result<transport_message> decode(frame f, const decode_limits& limits) {
  if (f.payload) return decode_transport_message(f.body, std::move(*f.payload), limits);
  return decode_transport_message(std::move(f.body), limits);
}

result<std::optional<frame>> decoder::next_frame() {
  using maybe_frame = std::optional<frame>;
  if (failed_) return errc::malformed;
  if (large_) {
    if (large_filled_ < large_->size()) return maybe_frame();
    frame done = large_head_ ? frame{std::move(*large_head_), std::move(large_)} : frame{std::move(*large_), {}};
    large_.reset();
    large_head_.reset();
    last_was_large_ = true;
    return maybe_frame(std::move(done));
  }
  const auto staged = end_ - begin_;
  std::size_t body = 0;
  if (staged >= length_prefix_size) {
    body = read_prefix(staging_.data() + begin_);
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
    if (length_prefix_size + body > staging_.size()) {  // too big to stage: read the rest in place
      const byte_view arrived(staging_.data() + begin_ + length_prefix_size, staged - length_prefix_size);
      const auto head = find_head(arrived);
      std::size_t head_size = 0;
      if (head && head->length + head->payload_size == body) {  // the payload gets a buffer of its own
        head_size = head->length;
        large_head_.emplace(arrived.begin(), arrived.begin() + static_cast<std::ptrdiff_t>(head_size));
        large_.emplace(head->payload_size);
      } else {  // whole, so decoding the whole body can say what is wrong with it
        large_.emplace(body);
      }
      large_filled_ = arrived.size() - head_size;
      std::memcpy(large_->data(), arrived.data() + head_size, large_filled_);
      begin_ = end_ = 0;
      return maybe_frame();
    }
  }
  // Incomplete: move what is staged to the front, so the rest of the frame has room after it.
  if (begin_ > 0) {
    std::memmove(staging_.data(), staging_.data() + begin_, staged);
    begin_ = 0;
    end_ = staged;
  }
  return maybe_frame();
}

}  // namespace nodus::tcp_frame
