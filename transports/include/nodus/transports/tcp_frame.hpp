#pragma once
/// The TCP wire format as a pure codec (no sockets): one protocol-version byte when a
/// connection opens, then frames of a big-endian u32 length and a msgpack transport_message.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "nodus/core/bytes.hpp"
#include "nodus/core/local_message.hpp"
#include "nodus/core/result.hpp"
#include "nodus/core/transport_message.hpp"

namespace nodus::tcp_frame {

/// The byte each side sends first on a new connection.
inline constexpr std::uint8_t protocol_version = 1;
/// The largest frame body (the encoded transport message) accepted by default: 16 MiB.
inline constexpr std::size_t default_max_size = 16 * 1024 * 1024;
/// The length prefix in front of every frame body.
inline constexpr std::size_t length_prefix_size = 4;

/// The length of the frame body that would carry `m` after its first onward hop (the
/// connection itself) is stripped, computed without encoding.
std::size_t body_size(const local_message& m);

/// Appends one frame carrying `m` (length prefix, then the encoded message) to `out`.
/// `errc::too_large` (and `out` unchanged) when the body would exceed `max_frame_size`.
result<> append(const transport_message& m, std::size_t max_frame_size, bytes& out);

/// Splits the byte stream read from one connection into frame bodies. Bytes may arrive in any
/// pieces: a length prefix split across reads, several frames in one read, a frame in many.
/// The first error is final: the connection it came from must be closed.
class decoder {
public:
  explicit decoder(std::size_t max_frame_size = default_max_size);

  /// Takes the next bytes of the stream; `errc::unsupported_version` if the very first byte is
  /// not `protocol_version`.
  result<> feed(byte_view data);
  /// The next complete frame body, or nothing until more bytes arrive; `errc::too_large` as
  /// soon as a length prefix over the maximum is complete. Call it until it returns nothing.
  result<std::optional<bytes>> next_frame();
  /// True while part of a frame has arrived but not all of it.
  bool in_frame() const noexcept { return buffer_.size() > read_; }

private:
  std::size_t max_frame_size_;
  bool version_checked_ = false;
  bool failed_ = false;
  bytes buffer_;
  std::size_t read_ = 0;  // bytes of buffer_ already handed out as frames
};

}  // namespace nodus::tcp_frame
