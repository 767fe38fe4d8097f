#pragma once
/// The portal protocol: what an inlet's connection worker and an outlet's say to each other along
/// the route between them (typically through a secure channel). Every message is one msgpack
/// array whose first element is the protocol version and whose second is the kind:
///
///   inlet -> outlet   open    [1, 1, window]          a client connected; `window` is how many bytes
///                                                     the outlet's end may send before an ack
///   outlet -> inlet   opened  [1, 2, window]          the target answered; its window the other way
///   either way        data    [1, 3, offset, bin]     bytes read from this end's socket, `offset`
///                                                     the stream position of the first one
///                     ack     [1, 4, written]         bytes of the other end's stream written to
///                                                     this end's socket so far (cumulative)
///                     eof     [1, 5, total]           this end's socket reached end of stream
///                                                     after `total` bytes (half-close)
///                     close   [1, 6, code, reason]    this end failed or was stopped; the other
///                                                     end closes too
///                     ping    [1, 7]                  nothing to say, but alive (keepalive)
///
/// The decoder is total: any bytes give a message or an error (`malformed`, `too_large`,
/// `unsupported_version`), never an exception, and what it allocates is bounded by the input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nodus/core/bytes.hpp"
#include "nodus/core/result.hpp"

namespace nodus::portal {

/// The version every message carries; a message of another version is `errc::unsupported_version`.
inline constexpr std::uint8_t protocol_version = 1;
/// The largest `data` chunk a decoder accepts (senders use `chunk_bytes`, 64 KiB by default).
inline constexpr std::size_t max_data_bytes = 1024 * 1024;
/// The largest `close` reason a decoder accepts.
inline constexpr std::size_t max_reason_bytes = 1024;
/// The largest window an `open` or `opened` may announce (1 GiB).
inline constexpr std::uint64_t max_window_bytes = std::uint64_t{1} << 30;
/// The size of a `data` message's head: `data` chunks are encoded with fixed-width fields, so a
/// socket can be read straight into the message after its head (`data_head`).
inline constexpr std::size_t data_head_size = 17;

/// What a message is.
enum class message_kind : std::uint8_t { open = 1, opened, data, ack, eof, close, ping };

/// Why a `close` was sent. Codes this build does not know decode as they are (`describe` names
/// them by number), so a newer peer's reasons still reach the log.
enum class close_code : std::uint8_t {
  connect_failed = 1,   ///< the outlet could not connect to its target
  reset = 2,            ///< a socket failed at the sending end (reset, broken pipe)
  timeout = 3,          ///< the open handshake or the other end's keepalive ran out of time
  protocol = 4,         ///< the sending end got a message that breaks this protocol
  stopped = 5,          ///< the inlet or outlet (or its node) was stopped
  refused = 6,          ///< the outlet refused the connection (its connection limit)
  unsupported_version,  ///< the sending end does not speak the version it was sent
};

/// A short phrase for `code`, e.g. `connect failed`.
std::string_view describe(close_code code);

/// One decoded message; which fields mean something depends on `kind`.
struct message {
  message_kind kind = message_kind::ping;
  /// open, opened: the window; data: the offset of its first byte; ack: the bytes written so
  /// far; eof: the total length of the stream.
  std::uint64_t value = 0;
  /// data: the chunk. A decoded message borrows it from the decoded bytes.
  byte_view data;
  /// close: why, for programs and for people (`reason` is the sender's words: escape it).
  close_code code = close_code::stopped;
  std::string reason;

  static message open(std::uint64_t window) { return {.kind = message_kind::open, .value = window}; }
  static message opened(std::uint64_t window) { return {.kind = message_kind::opened, .value = window}; }
  static message ack(std::uint64_t written) { return {.kind = message_kind::ack, .value = written}; }
  static message eof(std::uint64_t total) { return {.kind = message_kind::eof, .value = total}; }
  static message ping() { return {.kind = message_kind::ping}; }
  static message close(close_code code, std::string reason) {
    return {.kind = message_kind::close, .code = code, .reason = std::move(reason)};
  }
};

/// The bytes of `m` (a `close` reason is cut to `max_reason_bytes`).
bytes encode(const message& m);

/// Writes the head of a `data` message carrying `size` bytes from stream position `offset` into
/// the first `data_head_size` bytes of `out`, which the chunk follows.
void data_head(std::uint64_t offset, std::size_t size, std::uint8_t* out);

/// The message in `wire`: `errc::malformed` for anything that is not one of the messages above
/// (wrong types, wrong lengths, unknown kinds, a window of 0, trailing bytes), `errc::too_large`
/// for a chunk, reason or window over its limit, `errc::unsupported_version` for another version.
/// A `data` message's chunk points into `wire`.
result<message> decode(byte_view wire);

}  // namespace nodus::portal
