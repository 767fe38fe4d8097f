#include "nodus/transports/tcp_frame.hpp"

#include <algorithm>

namespace nodus::tcp_frame {
namespace {

std::uint32_t read_prefix(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

}  // namespace

std::size_t body_size(const local_message& m) {
  std::span<const address> onward(m.onward_route.begin(), m.onward_route.end());
  if (!onward.empty()) onward = onward.subspan(1);
  return encoded_size(onward, std::span<const address>(m.return_route.begin(), m.return_route.end()),
                      m.payload.size());
}

result<> append(const transport_message& m, std::size_t max_frame_size, bytes& out) {
  const auto start = out.size();
  out.resize(start + length_prefix_size);
  encode_append(m, out);
  const auto body = out.size() - start - length_prefix_size;
  if (body > max_frame_size) {
    out.resize(start);
    return errc::too_large;
  }
  for (std::size_t i = 0; i < length_prefix_size; ++i)
    out[start + i] = static_cast<std::uint8_t>(body >> (8 * (length_prefix_size - 1 - i)));
  return ok();
}

decoder::decoder(std::size_t max_frame_size) : max_frame_size_(max_frame_size) {}

result<> decoder::feed(byte_view data) {
  if (failed_) return errc::malformed;
  if (!version_checked_ && !data.empty()) {
    if (data[0] != protocol_version) {
      failed_ = true;
      return errc::unsupported_version;
    }
    version_checked_ = true;
    data = data.subspan(1);
  }
  // Drop what was already handed out before growing, so the buffer stays one frame long.
  if (read_ > 0 && (read_ == buffer_.size() || read_ >= buffer_.size() / 2)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_));
    read_ = 0;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  return ok();
}

result<std::optional<bytes>> decoder::next_frame() {
  if (failed_) return errc::malformed;
  if (buffer_.size() - read_ < length_prefix_size) return std::optional<bytes>();
  const std::size_t body = read_prefix(buffer_.data() + read_);
  if (body > max_frame_size_) {
    failed_ = true;
    return errc::too_large;
  }
  if (buffer_.size() - read_ < length_prefix_size + body) return std::optional<bytes>();
  const auto first = buffer_.begin() + static_cast<std::ptrdiff_t>(read_ + length_prefix_size);
  bytes frame(first, first + static_cast<std::ptrdiff_t>(body));
  read_ += length_prefix_size + body;
  return std::optional<bytes>(std::move(frame));
}

}  // namespace nodus::tcp_frame
