#pragma once
/// The TCP wire format as a pure codec (no sockets): one protocol-version byte when a
/// connection opens, then frames of a big-endian u32 length and a msgpack transport_message.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

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

/// Appends the start of the frame carrying `m`: the length prefix and every encoded byte before
/// the payload's. Writing it and then `m.payload` writes the frame without copying the payload.
/// `errc::too_large` (and `out` unchanged) when the body would exceed `max_frame_size`.
result<> append_head(const transport_message& m, std::size_t max_frame_size, bytes& out);

/// One received frame. A large frame's payload is read straight into its own buffer, apart
/// from the bytes before it, so it is never copied on the way to the message.
struct frame {
  bytes body;                    ///< the whole frame body, or only its head when `payload` is set
  std::optional<bytes> payload;  ///< a large frame's payload, read apart
};

/// The message a frame carries (see `decode_transport_message` for the errors).
result<transport_message> decode(frame f, const decode_limits& limits = {});

/// Splits the byte stream read from one connection into frame bodies. The socket reads straight
/// into `buffer()`: small frames land in a staging area, and a frame too big for it moves to a
/// buffer of its own (its payload apart, once its head has arrived), which is handed over with
/// the frame, so the payload is not copied again on the way to the message.
/// Memory follows the bytes that arrive, never the length a prefix declares: the staging area
/// and a large frame's buffer start small and double as they fill, so a frame in progress holds
/// at most about twice what it has received (and at least a few KiB).
/// Bytes may arrive in any pieces: a length prefix split across reads, several frames in one
/// read, a frame in many. The first error is final: the connection must be closed.
class decoder {
public:
  /// Frames whose prefix and body fit in this many bytes are staged; larger ones get their own buffer.
  static constexpr std::size_t staging_size = 64 * 1024;
  /// The staging area's first size; it doubles (up to `staging_size`) whenever a read fills it.
  static constexpr std::size_t staging_start = 4 * 1024;
  /// A large frame's own buffer starts at twice what has arrived of it, and at least this.
  static constexpr std::size_t first_large_buffer = 4 * 1024;
  /// After a large frame, the next read into the staging area takes at most this much, so that
  /// most of another large frame is read in place rather than staged and copied.
  static constexpr std::size_t read_after_large = 4 * 1024;

  explicit decoder(std::size_t max_frame_size = default_max_size);

  /// Where the next bytes from the stream go (growing a buffer that is full). Never empty after
  /// `next_frame` returned nothing.
  std::span<std::uint8_t> buffer();
  /// Records that `n` bytes were written at the start of `buffer()`.
  /// `errc::unsupported_version` when the stream's first byte is not `protocol_version`.
  result<> commit(std::size_t n);
  /// The next complete frame body, or nothing until more bytes arrive; `errc::too_large` as
  /// soon as a length prefix over the maximum is complete. Call it until it returns nothing.
  result<std::optional<frame>> next_frame();
  /// True while part of a frame has arrived but not all of it.
  bool in_frame() const noexcept { return large_ ? true : end_ > begin_; }
  /// The stream's first byte, once it has arrived (for error messages).
  std::optional<std::uint8_t> version_received() const noexcept { return version_; }
  /// Bytes allocated now: the staging area and a large frame's buffers.
  std::size_t buffered_capacity() const noexcept;
  /// Bytes allocated now for a frame too big to stage (0 when there is none): the part of the
  /// memory that a peer's frames can make grow; the staging area is at most `staging_size`.
  std::size_t large_frame_capacity() const noexcept;

private:
  bool start_large(std::size_t body);

  std::size_t max_frame_size_;
  std::optional<std::uint8_t> version_;
  bool failed_ = false;
  bytes staging_;
  std::size_t begin_ = 0;  // staged bytes not yet handed out: [begin_, end_)
  std::size_t end_ = 0;
  bool staging_filled_ = false;      // the last read filled the staging area: give it more room
  std::optional<bytes> large_;       // a frame too big to stage, while it is read: its payload, or its body
  std::optional<bytes> large_head_;  // when large_ holds the payload: the bytes before it
  std::size_t large_size_ = 0;       // what large_ will hold when the frame is whole
  std::size_t large_filled_ = 0;
  bool last_was_large_ = false;
};

}  // namespace nodus::tcp_frame
