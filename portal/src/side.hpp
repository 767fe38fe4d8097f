#pragma once
// What an inlet or an outlet shares with its connections: settings, counters, the control
// context that sends for them, and the connections open now.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)
#include <vector>

#include <spdlog/logger.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "nodus/core/host_port.hpp"
#include "nodus/portal/portal.hpp"

namespace nodus::portal::detail {

using clock = std::chrono::steady_clock;

/// What the handles (`tcp_inlet`, `tcp_outlet`) share with the side: never the node.
struct portal_state {
  nodus::address at;
  std::string endpoint;  // an outlet's target, an inlet's bound address
  std::atomic<std::uint64_t> open{0}, total{0}, failed{0}, in{0}, out{0}, unacked{0}, buffered{0};

  portal_stats snapshot() const noexcept;
};

/// How each connection of a side behaves.
struct connection_settings {
  std::size_t window = default_window_bytes;  // what this end lets the other have unacknowledged
  std::size_t chunk = default_chunk_bytes;
  duration keepalive{};
  duration peer_timeout{};
  duration open_timeout{};     // inlet: from accept to the outlet's answer
  duration connect_timeout{};  // outlet: dialling the target
};

class connection;

/// One inlet or outlet.
class side {
public:
  enum class kind { inlet, outlet };

  side(kind what, std::shared_ptr<portal_state> state, connection_settings settings, std::size_t max_connections,
       boost::asio::any_io_executor io, spdlog::logger& log, std::shared_ptr<context> control);

  const kind what;
  const std::shared_ptr<portal_state> state;
  const connection_settings settings;
  const std::size_t max_connections;
  const boost::asio::any_io_executor io;
  spdlog::logger& log;      // the node's; everything using it runs on the node
  const std::string label;  // for logs: `tcp inlet 'inlet'`

  // An inlet's way to the outlet (set before the inlet starts).
  route to;
  std::function<task<result_or_failure<route>>(context&)> resolve;
  // An outlet's target, split.
  std::string host, port;
  // Makes each connection's filter, when there is one.
  stream_filter_factory filter;

  /// `inlet` or `outlet`: this end, and the other, in log lines.
  const char* name() const noexcept { return what == kind::inlet ? "inlet" : "outlet"; }
  const char* other() const noexcept { return what == kind::inlet ? "outlet" : "inlet"; }

  /// The context that sends and starts workers for the connections; null once stopped (it
  /// holds the node, so it must not outlive the side's worker).
  std::shared_ptr<context> control() const;
  /// Takes `c` (whose worker is at `at`) among the open connections; false when stopping or at
  /// `max_connections`.
  bool add(const std::shared_ptr<connection>& c, const address& at);
  void remove(const address& connection_worker);
  /// From now on `add` refuses; returns the connections open now.
  std::vector<std::shared_ptr<connection>> begin_stop();
  bool stopping() const;
  void release_control();

private:
  mutable std::mutex mutex_;
  std::shared_ptr<context> control_;
  bool stopping_ = false;
  std::map<address, std::weak_ptr<connection>> connections_;
};

/// Options every portal socket gets: TCP_NODELAY and keepalive.
void configure_socket(boost::asio::ip::tcp::socket& socket);
using nodus::split_host_port;  // nodus/core/host_port.hpp
/// `ip:port`, or `[ip6]:port`.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e);
/// A fresh, unguessable local address (128 random bits after `prefix`).
address new_connection_address(std::string_view prefix);

/// Why `window` and `chunk` cannot be used (empty when they can), for `create_tcp_*`.
std::string invalid_sizes(std::size_t window, std::size_t chunk);

/// The inlets and outlets of every node, so `stop_tcp_inlet` finds the one at an address.
void register_side(const context& ctx, const std::shared_ptr<side>& s);
void unregister_side(const context& ctx, const side& s);
std::shared_ptr<side> find_side(const context& ctx, side::kind what, const address& at);

}  // namespace nodus::portal::detail
