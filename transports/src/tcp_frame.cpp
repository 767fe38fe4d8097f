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

result<std::optional<bytes>> decoder::next_frame() {
  if (failed_) return errc::malformed;
  if (large_) {
    if (large_filled_ < large_->size()) return std::optional<bytes>();
    auto frame = std::move(large_);
    large_.reset();
    last_was_large_ = true;
    return frame;
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
      bytes frame(first, first + static_cast<std::ptrdiff_t>(body));
      last_was_large_ = false;
      begin_ += length_prefix_size + body;
      if (begin_ == end_) begin_ = end_ = 0;
      return std::optional<bytes>(std::move(frame));
    }
    if (length_prefix_size + body > staging_.size()) {  // too big to stage: read the rest in place
      large_.emplace(body);
      large_filled_ = staged - length_prefix_size;
      std::memcpy(large_->data(), staging_.data() + begin_ + length_prefix_size, large_filled_);
      begin_ = end_ = 0;
      return std::optional<bytes>();
    }
  }
  // Incomplete: move what is staged to the front, so the rest of the frame has room after it.
  if (begin_ > 0) {
    std::memmove(staging_.data(), staging_.data() + begin_, staged);
    begin_ = 0;
    end_ = staged;
  }
  return std::optional<bytes>();
}

}  // namespace nodus::tcp_frame
