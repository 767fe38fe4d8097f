#pragma once
/// TCP portals (Ockam's tcp-inlet and tcp-outlet): any TCP client that connects to an inlet
/// reaches the outlet's fixed target (host:port) through whatever route the inlet is given,
/// typically an end-to-end encrypted secure channel, possibly through a relay on a hub, with
/// byte streams both ways.
///
///   // Bob, next to the service; his listener's channels reach the outlet, nothing else does.
///   portal::outlet_options oo{.target = "127.0.0.1:5432"};  // named: no braced temporary in co_await
///   co_await portal::create_tcp_outlet(ctx, "outlet", oo);
///   secure_channel::options so{.identity = bob, .trust = secure_channel::trust_policy::identifier(alice_id)};
///   so.expose = {"outlet"};
///   co_await secure_channel::create_secure_channel_listener(ctx, "listener", so);
///
///   // Alice, next to the client; every connection to 127.0.0.1:15432 comes out at Bob's target.
///   auto ch = co_await secure_channel::create_secure_channel(ctx, to_bobs_listener, alice_options);
///   portal::inlet_options io{.bind = "127.0.0.1:15432", .to = route{ch.value().address(), "outlet"}};
///   auto inlet = co_await portal::create_tcp_inlet(ctx, "inlet", io);
///
/// Each accepted connection gets a connection worker at the inlet, which opens a connection
/// worker at the outlet (after the outlet has dialled its target); the two carry the stream in
/// chunks, each direction with a window of unacknowledged bytes (back-pressure: a slow reader at
/// one end makes the other end stop reading its socket), and carry half-closes and failures
/// across (nodus/portal/protocol.hpp, docs/architecture.md "TCP portals").
///
/// Who may reach what (nodus/node/flow_control.hpp): the outlet only from the flows it is exposed
/// to (a channel listener's `expose`); each connection worker only from the flow of the peer that
/// opened it (the outlet's) or that it opened (the inlet's). Nothing from the network chooses where
/// an outlet dials: its target is fixed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "nodus/core/failure.hpp"
#include "nodus/core/route.hpp"
#include "nodus/node/access_control.hpp"
#include "nodus/node/context.hpp"
#include "nodus/node/task.hpp"
#include "nodus/portal/protocol.hpp"
#include "nodus/portal/stream_filter.hpp"

namespace nodus::portal {

namespace detail {
struct portal_state;  // what the handles share (portal/src/side.hpp)
}  // namespace detail

/// The default window: bytes one end may send before the other end acknowledges them.
inline constexpr std::size_t default_window_bytes = 256 * 1024;
/// The default size of one socket read, and so of one data message.
inline constexpr std::size_t default_chunk_bytes = 64 * 1024;

/// How an outlet behaves. `target` is required.
struct outlet_options {
  /// The `host:port` every connection dials (a name is looked up at each dial).
  std::string target;
  /// The window of the inlet-to-target direction: how many bytes an inlet's end may send before
  /// this end has written them to the target (and so what this end buffers per connection).
  std::size_t window_bytes = default_window_bytes;
  /// The largest socket read, and so data message (at most `max_data_bytes`).
  std::size_t chunk_bytes = default_chunk_bytes;
  /// How long dialling the target (name lookup included) may take.
  duration connect_timeout = std::chrono::seconds(5);
  /// Connections open or being dialled at once; one more open request is refused (the inlet's
  /// client sees its connection closed, and both sides log why).
  std::size_t max_connections = 1024;
  /// A connection that has sent nothing for this long sends a ping.
  duration keepalive_interval = std::chrono::seconds(5);
  /// A connection that has heard nothing from the other end for this long is closed.
  duration peer_timeout = std::chrono::seconds(30);
  /// When set, each connection's bytes pass through a filter of its own (stream_filter.hpp).
  stream_filter_factory filter;
  /// Who may open connections: the access control of the outlet's worker, e.g.
  /// `secure_channel::allowed_by(policy, "the outlet")` (everyone who can reach it by default).
  incoming_access_control access = incoming_access_control::allow_all();
};

/// How an inlet behaves. `bind` and one of `to` or `resolve` are required.
struct inlet_options {
  /// Where to listen, `host:port`; port 0 picks a free port (`tcp_inlet::bound` reports it).
  std::string bind;
  /// The route to the outlet, e.g. `route{channel.address(), "outlet"}`.
  route to;
  /// Called for every new connection (possibly for several at once) to get the route to the
  /// outlet, e.g. to create a secure channel lazily or again after it broke; wins over `to`. It
  /// gets a context of its own on the inlet's node. A failure closes that client's connection
  /// with a log line giving the reason.
  std::function<task<result_or_failure<route>>(context&)> resolve;
  /// The window of the target-to-client direction (see `outlet_options::window_bytes`).
  std::size_t window_bytes = default_window_bytes;
  /// The largest socket read, and so data message (at most `max_data_bytes`).
  std::size_t chunk_bytes = default_chunk_bytes;
  /// How long the outlet may take to answer an open request (it dials its target first).
  duration open_timeout = std::chrono::seconds(10);
  /// Client connections open at once; one more is accepted and closed at once (logged at most
  /// once a second, with a count).
  std::size_t max_connections = 1024;
  /// A connection that has sent nothing for this long sends a ping.
  duration keepalive_interval = std::chrono::seconds(5);
  /// A connection that has heard nothing from the outlet's end for this long is closed.
  duration peer_timeout = std::chrono::seconds(30);
  /// When set, each connection's bytes pass through a filter of its own (stream_filter.hpp).
  stream_filter_factory filter;
};

/// What an inlet or an outlet has done so far ("this side's sockets": the clients' for an inlet,
/// the target's for an outlet). Counters are published after the log lines that explain them.
struct portal_stats {
  std::uint64_t connections_open = 0;    ///< this side's sockets open now (an inlet's: accepted, not yet closed)
  std::uint64_t connections_total = 0;   ///< every connection ever started here (accepted, or asked to dial)
  std::uint64_t connections_failed = 0;  ///< those that ended other than by both directions ending
  std::uint64_t bytes_in = 0;            ///< read from this side's sockets and sent into the portal
  std::uint64_t bytes_out = 0;           ///< received through the portal and written to this side's sockets
  /// Sent into the portal and not yet acknowledged by the other end, over every open connection
  /// (at most the other end's window each).
  std::uint64_t bytes_unacknowledged = 0;
  /// Received through the portal and not yet written to this side's sockets, over every open
  /// connection (at most `window_bytes` each).
  std::uint64_t bytes_buffered = 0;
};

/// A running outlet, made by `create_tcp_outlet`. Copies share it; it does not keep the node alive.
class tcp_outlet {
public:
  /// The outlet's worker, which inlets' open requests are sent to.
  const nodus::address& address() const noexcept;
  /// The `host:port` it dials.
  const std::string& target() const noexcept;
  /// Its counters now (safe from any thread).
  portal_stats stats() const noexcept;

private:
  friend task<result_or_failure<tcp_outlet>> create_tcp_outlet(context&, nodus::address, outlet_options);
  explicit tcp_outlet(std::shared_ptr<const detail::portal_state> s) : state_(std::move(s)) {}
  std::shared_ptr<const detail::portal_state> state_;
};

/// A running inlet, made by `create_tcp_inlet`. Copies share it; it does not keep the node alive.
class tcp_inlet {
public:
  /// The inlet's worker (it owns the listening socket).
  const nodus::address& address() const noexcept;
  /// The `host:port` it listens on, with the port it was given when `bind` asked for port 0.
  const std::string& bound() const noexcept;
  /// Its counters now (safe from any thread).
  portal_stats stats() const noexcept;

private:
  friend task<result_or_failure<tcp_inlet>> create_tcp_inlet(context&, nodus::address, inlet_options);
  explicit tcp_inlet(std::shared_ptr<const detail::portal_state> s) : state_(std::move(s)) {}
  std::shared_ptr<const detail::portal_state> state_;
};

/// Starts an outlet at `at`, reachable from this node and from the flows it is exposed to (a
/// secure channel listener's `expose = {"outlet"}`, `context::expose`). Fails with
/// `errc::invalid_address` for a target that is not `host:port`, `std::errc::invalid_argument`
/// for a window or chunk size of 0 or a chunk over `max_data_bytes`, and `errc::already_exists`
/// when `at` is taken.
task<result_or_failure<tcp_outlet>> create_tcp_outlet(context& ctx, nodus::address at, outlet_options o);

/// Starts an inlet whose worker is at `at`, listening on `o.bind`. Fails as `create_tcp_outlet`
/// does, with `errc::empty_route` when neither `to` nor `resolve` is given, and with the system's
/// error (e.g. address in use) when it cannot listen.
task<result_or_failure<tcp_inlet>> create_tcp_inlet(context& ctx, nodus::address at, inlet_options o);

/// Stops the outlet at `at`: every connection it holds is closed (the inlets' ends are told,
/// and each closing is logged), then its worker. `errc::unknown_address` when no outlet of this
/// node is at `at`.
task<result<>> stop_tcp_outlet(context& ctx, const nodus::address& at);

/// Stops the inlet at `at`: it stops listening, closes every connection it holds (the outlets'
/// ends are told, and each closing is logged), then its worker. `errc::unknown_address` when no
/// inlet of this node is at `at`.
task<result<>> stop_tcp_inlet(context& ctx, const nodus::address& at);

}  // namespace nodus::portal
