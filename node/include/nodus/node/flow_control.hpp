#pragma once
/// Who beyond this node may reach a worker (flow control, after Ockam's).
///
/// Every message that enters the node from elsewhere carries its origin (`local_message::origin`):
/// the flow it came in by (a TCP connection, a stream, a secure channel) and the flow that
/// spawned that one (the TCP listener that accepted the connection, the secure channel listener
/// that made the channel). A message made on this node has no origin.
///
/// By default a worker is reachable only from its own node: a message with an origin reaches it
/// only when the worker is exposed to that flow or to its parent, in one of two ways:
/// - explicitly, by whoever owns the flow: `tcp_transport::listen(bind, {.expose = {"echoer"}})`,
///   a secure channel listener's `options::expose`, a stream client's or relay client's `expose`,
///   or `context::expose(flow, address)`;
/// - implicitly, for replies: a local worker that sends into a flow (through the connection's,
///   channel's or stream's worker, which declares `worker_options::produces`) becomes reachable
///   from that flow, so answers come back to whoever asked.
/// A refused message is logged with its origin and the worker, and the sender gets
/// `errc::access_denied`.

#include <cstdint>

namespace nodus {

/// How a worker treats messages that entered the node from elsewhere.
enum class reach : std::uint8_t {
  /// Only from flows the worker is exposed to (the default).
  exposed_flows,
  /// From anywhere: workers whose job is to carry messages onwards (a connection's writer, a relay).
  any_origin,
  /// Never from elsewhere, even if exposed: workers that act with this node's authority
  /// (a secure channel's encryptor and its close address, the TCP transport's dialler).
  this_node_only,
};

}  // namespace nodus
