#pragma once
/// The form in which a message travels between nodes, and its versioned msgpack encoding.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "nodus/core/bytes.hpp"
#include "nodus/core/local_message.hpp"
#include "nodus/core/result.hpp"
#include "nodus/core/route.hpp"

namespace nodus {

/// The version of an ordinary message's wire form, `[1, onward, return, payload]`.
inline constexpr std::uint8_t transport_message_version = 1;
/// The version of the wire form with a kind, `[2, kind, onward, return, payload]`: written for
/// every message that is not an ordinary one (a delivery-error notice).
inline constexpr std::uint8_t transport_message_kind_version = 2;
/// The largest payload a transport message may carry unless a transport says otherwise (16 MiB).
inline constexpr std::size_t default_max_payload = 16 * 1024 * 1024;

/// A message between nodes: the onward route, the return route, the payload and its kind.
/// Wire form: an ordinary message is the msgpack array `[1, onward, return, payload]`, any
/// other kind `[2, kind, onward, return, payload]` (kind: uint, see `message_kind`), where a
/// route is an array of `[type, value]` pairs (uint, str) and the payload is bin. Ordinary
/// messages keep version 1, byte for byte, so nodes built before kinds existed still read them.
struct transport_message {
  route onward_route;
  route return_route;
  bytes payload;
  message_kind kind = message_kind::message;

  friend bool operator==(const transport_message&, const transport_message&) = default;
};

/// Limits applied while decoding bytes that came from another node.
struct decode_limits {
  std::size_t max_payload = default_max_payload;
  std::size_t max_hops = max_route_length;
  std::size_t max_address_length = nodus::max_address_length;
};

/// Encodes `m` in the wire form.
bytes encode(const transport_message& m);
/// Appends the wire form of `m` to `out`.
void encode_append(const transport_message& m, bytes& out);
/// Appends the wire form of a message with these routes and a payload of `payload_size` bytes,
/// up to where the payload's bytes start: writing this and then the payload writes the whole
/// message, without copying the payload.
void encode_head_append(std::span<const address> onward, std::span<const address> back, std::size_t payload_size,
                        bytes& out);
/// The same for a message of kind `kind`.
void encode_head_append(message_kind kind, std::span<const address> onward, std::span<const address> back,
                        std::size_t payload_size, bytes& out);
/// The exact length of the wire form of a message with these routes and a payload of
/// `payload_size` bytes, computed without encoding it.
std::size_t encoded_size(std::span<const address> onward, std::span<const address> back, std::size_t payload_size);
/// The same for a message of kind `kind`.
std::size_t encoded_size(message_kind kind, std::span<const address> onward, std::span<const address> back,
                         std::size_t payload_size);

/// Decodes the wire form. Never throws and never allocates more than a small multiple of the
/// input: truncated, malformed, oversized or trailing input is `errc::malformed` or
/// `errc::too_large`; a version other than `transport_message_version` and
/// `transport_message_kind_version`, or a kind this build does not know, is
/// `errc::unsupported_version`. Version 2 with kind 0 is an ordinary message.
result<transport_message> decode_transport_message(byte_view wire, const decode_limits& limits = {});
/// The same, taking the bytes over: the payload is moved to the front of `wire`'s own buffer,
/// which becomes the message's payload, so a large payload is not copied to a new allocation.
result<transport_message> decode_transport_message(bytes&& wire, const decode_limits& limits = {});

/// The same for a wire form lying inside `buffer` (`wire` is a part of it), taking the buffer
/// over: the payload's bytes move to its front and the buffer becomes the payload (a secure
/// channel decrypts a frame in place and decodes the message inside it).
result<transport_message> decode_transport_message_within(bytes&& buffer, byte_view wire,
                                                          const decode_limits& limits = {});

/// Where a wire form's payload starts, read from its first bytes.
struct wire_head {
  std::size_t length = 0;        ///< bytes before the payload's bytes
  std::size_t payload_size = 0;  ///< the payload's length as declared
};
/// The head of the wire form at the start of `wire`, once all of it has arrived. Nothing while
/// more bytes are needed, or when `wire` does not start the way an encoded message does (then
/// decoding the whole message says what is wrong).
std::optional<wire_head> find_head(byte_view wire);
/// Decodes a message whose head (see `find_head`) and payload were received apart, so a large
/// payload can be read straight into its own buffer. Checks as the whole-message form does.
result<transport_message> decode_transport_message(byte_view head, bytes&& payload, const decode_limits& limits = {});

namespace detail {
/// `decode_transport_message` through msgpack's general decoder only, without the quick path
/// for this build's own encoding: for the tests and fuzz targets that compare the two.
result<transport_message> decode_transport_message_general(byte_view wire, const decode_limits& limits = {});
}  // namespace detail

/// The local form of a message that arrived from another node (no metadata yet; its kind kept).
local_message to_local_message(transport_message m);
/// The wire form of a local message (its kind included); its local metadata stays behind.
transport_message to_transport_message(local_message m);

}  // namespace nodus
