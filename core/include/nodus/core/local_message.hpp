#pragma once
/// A message as workers on one node see it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/route.hpp"

namespace nodus {

/// Facts about a message that only this node knows and that never go on the wire, for example
/// which identity a secure channel authenticated. Keys are namespaced, e.g. `secure_channel.identifier`.
using local_metadata = std::map<std::string, std::string, std::less<>>;

/// Where a message entered this node from elsewhere: a TCP connection, a stream, a secure
/// channel. Made once per connection (channel, stream) by whatever brings its messages in and
/// shared by all of them. Workers are reachable from a flow only when exposed to it (see
/// nodus/node/flow_control.hpp).
struct flow_origin {
  std::string flow;         ///< the flow the message came in by (a random id), never empty
  std::string parent;       ///< the flow of what spawned `flow` (a TCP or secure channel listener), or empty
  std::string description;  ///< for logs, e.g. `tcp connection from 127.0.0.1:5555`; printable ASCII only
};

/// What a message is. Only the runtime and the transports make anything but `message`.
enum class message_kind : std::uint8_t {
  message = 0,         ///< an ordinary message
  delivery_error = 1,  ///< a notice that a message could not be delivered (nodus/core/delivery_error.hpp)
};

/// A message inside a node: where it goes, how to answer, its payload and its local metadata.
struct local_message {
  route onward_route;       ///< the hops still ahead; the receiving worker's address is first
  route return_route;       ///< where replies go; each hop pushes itself on the front
  bytes payload;            ///< the encoded body
  local_metadata metadata;  ///< node-local facts; dropped when the message leaves the node
  /// Where the message entered this node; null when it was made here (by `send`). `forward`
  /// keeps it, so a forwarded message is still known to come from where it came from.
  std::shared_ptr<const flow_origin> origin;
  /// An ordinary message, or a delivery-error notice coming back along a return route. Unlike
  /// the metadata it travels: the TCP transport carries it on the wire, a secure channel inside
  /// its encryption. Contexts receive a notice as an error, workers in `handle_delivery_error`.
  message_kind kind = message_kind::message;
};

}  // namespace nodus
