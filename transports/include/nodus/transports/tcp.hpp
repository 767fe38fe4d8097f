#pragma once
/// The TCP transport: routes may name `tcp("host:port")` hops; the first message to such an
/// address connects, later ones reuse the connection, and replies come back over the same socket.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/node/context.hpp"
#include "nodus/node/node.hpp"
#include "nodus/transports/tcp_frame.hpp"

namespace nodus {

/// The transport type byte of TCP addresses (`1#host:port`).
inline constexpr address::transport_type tcp_type = address::tcp_type;

/// A TCP hop for routes: `route{tcp("127.0.0.1:4000"), "echoer"}`.
inline address tcp(std::string host_port) { return address(tcp_type, std::move(host_port)); }

/// How the TCP transport behaves. The defaults suit a hub on a LAN or the Internet.
struct tcp_options {
  /// The largest frame body accepted or sent; larger messages are refused, never truncated.
  std::size_t max_frame_size = tcp_frame::default_max_size;
  /// How long a connection attempt (name lookup included) may take.
  duration connect_timeout = std::chrono::seconds(5);
  /// The wait before reconnecting after a failed attempt; doubles per failure up to the maximum.
  duration reconnect_backoff = std::chrono::milliseconds(200);
  duration max_reconnect_backoff = std::chrono::seconds(5);
  /// Once part of a frame has arrived, all of it must arrive within this, or the connection is
  /// closed: a deadline for the whole frame, so trickling bytes cannot keep a connection (and
  /// what it has buffered) alive. A 16 MiB frame needs about 0.6 MB/s to make the default.
  duration frame_deadline = std::chrono::seconds(30);
  /// Messages waiting for one connection's worker; a full queue makes senders wait.
  std::size_t write_queue_capacity = 256;
  /// Bytes handed to a connection but not yet written to its socket; beyond this the
  /// connection's worker waits for the socket (and so, once its queue fills, do senders).
  std::size_t max_unsent_bytes = 4 * 1024 * 1024;
  /// Per listener: accepted connections open at once. One more is accepted and closed at once
  /// (logged at most once a second, with a count).
  std::size_t max_connections = 1024;
  /// Per listener: bytes held for frames too big to stage (over 64 KiB) while they arrive, across
  /// its connections; a connection whose partial frame would take the total over is closed. With
  /// the staging areas (at most 64 KiB a connection) this bounds what peers can make it buffer.
  std::size_t max_buffered_bytes = 64 * 1024 * 1024;
  /// `host:port` peers that messages from other nodes may be routed to by a `tcp(...)` hop.
  /// Empty (the default): only messages made on this node open or use connections by
  /// `tcp(...)`, so nobody on the network can make this node dial out.
  std::vector<std::string> allow_outgoing;
};

/// What a listener lets its connections reach (see nodus/node/flow_control.hpp).
struct tcp_listener_options {
  /// The workers that messages from this listener's connections may reach, e.g. `{"echoer"}`.
  /// Nothing else on the node is reachable through the listener (replies excepted).
  std::vector<address> expose;
  /// The listener's flow id, for exposing more workers later with `context::expose`; empty
  /// makes a fresh one.
  std::string flow;
};

/// One open connection, as `tcp_transport::connections` reports it.
struct tcp_connection_info {
  address worker;    ///< the local address that sends over this connection (a route's first hop)
  std::string peer;  ///< `host:port` as dialled, or the remote endpoint of an accepted connection
  bool outgoing = false;
};

/// What a transport's connections have done since it started (`tcp_transport::stats`).
struct tcp_stats {
  std::uint64_t bytes_in = 0;      ///< read from sockets (frames and version bytes)
  std::uint64_t bytes_out = 0;     ///< written to sockets
  std::uint64_t messages_in = 0;   ///< messages decoded from frames
  std::uint64_t messages_out = 0;  ///< messages handed to a connection to send
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_dialled = 0;
};

/// One listener, as `tcp_transport::listeners` reports it.
struct tcp_listener_info {
  std::string bound;            ///< `host:port` it is bound to
  std::string flow;             ///< the flow its connections' messages come in by
  std::vector<address> expose;  ///< the workers exposed to it when it started
};

namespace detail {
struct tcp_shared;
}

/// The TCP transport of one node. Copies share the same transport; it lives as long as the node.
class tcp_transport {
public:
  /// The address of the worker that takes messages for `tcp(...)` hops.
  static constexpr std::string_view router_address = "nodus.tcp";

  /// Starts the transport on the node of `ctx`: from now on `tcp(...)` hops in routes work.
  static task<result<tcp_transport>> create(context& ctx, tcp_options options = {});
  /// Blocking form, for `main`.
  static result<tcp_transport> create(node& n, tcp_options options = {});

  /// Listens on `host:port` (port 0 picks a free port) and serves every connection accepted
  /// there; its connections reach only the workers in `options.expose`. Returns the bound
  /// `host:port`. Errors: `invalid_argument` for an unparsable address, the system's error
  /// (e.g. address in use) otherwise.
  result<std::string> listen(std::string_view bind, tcp_listener_options options = {});
  /// Connects to `host:port` now (or reuses the open connection) and returns the connection's
  /// local address, usable as the first hop of a route.
  task<result<address>> connect(std::string peer);
  /// `connect` as a function that holds this transport (for `secure_channel::channel_hop`).
  std::function<task<result<>>(context&, std::string)> connector() const;
  /// Stops the listener bound at `bound` (as `listen` returned it): no more connections are
  /// accepted and the exposures to its flow end, so connections it accepted earlier stay open
  /// but reach nothing more (replies to what this node sent excepted).
  /// `errc::unknown_address` when no listener is bound there.
  result<> stop_listening(std::string_view bound);
  /// The listeners open now.
  std::vector<tcp_listener_info> listeners() const;
  /// Counters since the transport started (safe from any thread).
  tcp_stats stats() const;
  /// The connections open now.
  std::vector<tcp_connection_info> connections() const;
  /// The options in force.
  const tcp_options& options() const noexcept;

private:
  explicit tcp_transport(std::shared_ptr<detail::tcp_shared> shared) : shared_(std::move(shared)) {}
  std::shared_ptr<detail::tcp_shared> shared_;
};

}  // namespace nodus
