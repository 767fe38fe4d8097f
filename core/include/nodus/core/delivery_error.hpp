#pragma once
/// Delivery errors that cross nodes. When a node cannot deliver a message that came from another
/// node (no worker serves its next hop, access or flow control refuses it, or it may not dial
/// its next hop), it sends a small notice back along the message's return route: a message of
/// kind `message_kind::delivery_error` whose payload is the encoded `delivery_error`. The context
/// waiting for the reply then fails at once with that code instead of waiting out its timeout.
///
/// Rules, kept by `should_report` and the runtime: at most one notice per undeliverable
/// message; never a notice about a notice (no loops); none for a message without a return
/// route or made on the node itself (its sender gets the error code directly); a notice is
/// small (its return route is empty and its reason at most `max_delivery_error_reason` bytes)
/// and is dropped rather than waited for when the next mailbox is full.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "nodus/core/bytes.hpp"
#include "nodus/core/local_message.hpp"
#include "nodus/core/result.hpp"

namespace nodus {

/// The version written first in every encoded delivery error.
inline constexpr std::uint8_t delivery_error_version = 1;
/// The longest reason a notice carries, in bytes: longer ones are cut when encoding and
/// refused (`errc::too_large`) when decoding.
inline constexpr std::size_t max_delivery_error_reason = 160;

/// Why a message was not delivered.
struct delivery_error {
  std::error_code code;  ///< `errc::unknown_address`, `errc::access_denied` or `errc::too_large`
  std::string reason;    ///< for people, e.g. `no worker at 'nosuchworker'`; printable ASCII

  friend bool operator==(const delivery_error&, const delivery_error&) = default;
};

/// True for the codes a notice can carry: `errc::unknown_address`, `errc::access_denied`,
/// `errc::too_large`.
bool reportable(std::error_code code) noexcept;

/// The payload of a notice. Wire form: msgpack `[1, code, reason]`, where `code` is a uint of
/// its own, never an `errc` number (1: no such address, 2: access denied, 3: too large), and
/// `reason` is a str of at most `max_delivery_error_reason` bytes (cut here if longer, and any
/// byte that is not printable ASCII written as \xNN first). Precondition: `reportable(e.code)`.
bytes encode_delivery_error(const delivery_error& e);
/// Decodes a notice's payload. Total and bounded: anything but the wire form above is
/// `errc::malformed` (a reason over the limit `errc::too_large`; a version or code this build
/// does not know `errc::unsupported_version`). The reason is another node's text: any byte in
/// it that is not printable ASCII comes out as \xNN.
result<delivery_error> decode_delivery_error(byte_view payload);

/// True when a node that could not deliver `m` because of `code` must send a notice about it:
/// `m` came from another node (its origin is set), is not itself a notice, has a return route,
/// and `code` is `reportable`.
bool should_report(const local_message& m, std::error_code code) noexcept;

/// The notice about `m`: to `m`'s return route, with an empty return route (nobody answers a
/// notice) and no origin (it is made on this node, as a reply would be).
local_message delivery_error_notice(const local_message& m, const delivery_error& e);

/// `text` escaped as `printable` does and cut to at most `max` bytes (the cut marked by `...`),
/// for quoting what a peer sent (an address, a name) in a reason.
std::string printable_cut(std::string_view text, std::size_t max);

}  // namespace nodus
