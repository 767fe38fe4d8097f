#pragma once
// State shared by the TCP transport's workers and coroutines: options, the connections in use,
// and the control context that starts connection workers and forwards what sockets receive.

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "nodus/core/host_port.hpp"
#include "nodus/transports/tcp.hpp"

namespace nodus::detail {

using clock = std::chrono::steady_clock;

/// What the connections accepted by one listener may hold together (`tcp_options::max_connections`
/// and `max_buffered_bytes`), and what they hold now. Thread-safe.
class tcp_listener_budget {
public:
  tcp_listener_budget(std::size_t max_connections, std::size_t max_buffered_bytes) noexcept
      : max_connections_(max_connections), max_buffered_bytes_(max_buffered_bytes) {}

  /// Counts one more open connection; false (and nothing counted) when the cap is reached.
  bool open_connection() noexcept;
  void close_connection() noexcept;
  /// Counts `n` more bytes buffered; false (and nothing counted) when that would pass the cap.
  bool reserve(std::size_t n) noexcept;
  void release(std::size_t n) noexcept;

  std::size_t max_connections() const noexcept { return max_connections_; }
  std::size_t max_buffered_bytes() const noexcept { return max_buffered_bytes_; }
  std::size_t connections() const noexcept { return connections_.load(); }
  std::size_t buffered_bytes() const noexcept { return buffered_bytes_.load(); }

private:
  const std::size_t max_connections_;
  const std::size_t max_buffered_bytes_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> buffered_bytes_{0};
};

/// An accepted connection's share of its listener's budget: its place among the open
/// connections, and the bytes its partial frame holds. Given back by `release` or on destruction.
/// Empty (no budget, every `hold` succeeds) for outgoing connections.
class tcp_budget_share {
public:
  tcp_budget_share() noexcept = default;
  /// Takes over a connection already counted by `budget->open_connection()`.
  explicit tcp_budget_share(std::shared_ptr<tcp_listener_budget> budget) noexcept : budget_(std::move(budget)) {}
  tcp_budget_share(tcp_budget_share&& other) noexcept;
  tcp_budget_share& operator=(tcp_budget_share&& other) noexcept;
  ~tcp_budget_share() { release(); }

  /// Makes what this connection holds `bytes`; false (holding what it did) when the listener's
  /// total would pass its cap.
  bool hold(std::size_t bytes) noexcept;
  /// Gives back the connection and its bytes (once; later calls do nothing).
  void release() noexcept;
  /// The listener's cap on buffered bytes (0 without a budget), for log lines.
  std::size_t max_buffered_bytes() const noexcept { return budget_ ? budget_->max_buffered_bytes() : 0; }

private:
  std::shared_ptr<tcp_listener_budget> budget_;
  std::size_t held_ = 0;
};

/// What a transport's connections have done, for `tcp_transport::stats` (relaxed counters:
/// each is exact, the set is not a snapshot).
struct tcp_counters {
  std::atomic<std::uint64_t> bytes_in{0}, bytes_out{0}, messages_in{0}, messages_out{0};
  std::atomic<std::uint64_t> connections_accepted{0}, connections_dialled{0};
};

/// One socket and the strand that serialises everything done to it (reads, writes, close).
struct tcp_link {
  tcp_link(const boost::asio::any_io_executor& io, std::shared_ptr<tcp_counters> c)
      : strand(boost::asio::make_strand(io)), socket(strand), counters(std::move(c)), room(strand) {}

  boost::asio::strand<boost::asio::any_io_executor> strand;
  boost::asio::ip::tcp::socket socket;
  std::string peer;                           // for logs: host:port as dialled, or the remote endpoint
  std::atomic<bool> closing{false};           // set once by whoever closes first (reader, writer or shutdown)
  std::atomic<bool> past_deadline{false};     // set by the frame deadline's timer before it closes the socket
  std::atomic<bool> worker_stopping{false};   // the worker's shutdown closes it; nobody need stop it
  std::shared_ptr<const flow_origin> origin;  // stamped on every message read from the socket
  tcp_budget_share budget;                 // accepted connections: the listener's caps; the read loop's, on the strand
  std::shared_ptr<tcp_counters> counters;  // the transport's (shared by all its links)

  // The write side (tcp_writer.cpp). Frames queue in `outbox` and one writer coroutine sends
  // whatever has queued in a single gathered write, so small messages share system calls.
  std::deque<bytes> outbox;                  // on the strand only
  bool writing = false;                      // on the strand only: a writer is running
  std::atomic<std::size_t> unsent_bytes{0};  // queued or being written: the worker's back-pressure
  boost::asio::steady_timer room;            // cancelled whenever unsent bytes go down
};

/// Queues the bytes of `head` and then `payload` behind everything queued before, and returns
/// at once; a writer on the link's strand sends them. After the link closes they are dropped.
void send_frame(const std::shared_ptr<tcp_link>& link, bytes head, bytes payload, spdlog::logger& log);
/// Waits until at most `limit` bytes are unsent or the link has closed.
task<> wait_for_room(std::shared_ptr<tcp_link> link, std::size_t limit);
/// Closes the socket if nobody has yet; true for the caller that did. On the link's strand only.
bool close_once(tcp_link& link);

/// What the transport remembers about a peer it dials.
struct tcp_peer {
  address connection;  // the worker for it; empty value when none is open or being opened
  unsigned failures = 0;
  clock::time_point next_attempt{};
};

struct tcp_shared {
  tcp_shared(tcp_options o, boost::asio::any_io_executor executor, spdlog::logger& logger,
             std::shared_ptr<context> control_context)
      : options(std::move(o)), io(std::move(executor)), log(logger), control(std::move(control_context)) {}

  const tcp_options options;
  const boost::asio::any_io_executor io;
  spdlog::logger& log;  // the node's logger; everything using it runs on the node
  const std::shared_ptr<tcp_counters> counters = std::make_shared<tcp_counters>();

  /// The context that starts connection workers and forwards received messages; null once the
  /// transport has stopped (it holds the node, so it must not outlive the router).
  std::shared_ptr<context> control_context() const;
  void release_control();

  /// A mailbox check refusing messages whose frame would exceed the limit, so the sender gets
  /// an error instead of the message being dropped later.
  incoming_access_control frame_limit() const;
  /// A connection's worker: it carries messages from anywhere onto its socket, and produces
  /// `origin`, the flow its received messages come in by.
  worker_options connection_worker_options(std::shared_ptr<const flow_origin> origin) const;
  /// The TCP router's: the frame limit; reachable from anywhere, and `may_dial` decides.
  worker_options router_options() const;
  /// True when `m` may open or use a connection by a `tcp(...)` hop: it was made on this node,
  /// or it goes to a peer in `allow_outgoing`.
  bool may_dial(const local_message& m) const;

  // Outgoing peers and open connections.
  /// The connection worker's address for `peer`, or an empty address when a new one must be made.
  address connection_for(const std::string& peer) const;
  void claim(const std::string& peer, const address& worker);
  /// Forgets the worker's mapping (when it stops) and, after a failed attempt, when to retry.
  void release(const std::string& peer, const address& worker, bool attempt_failed);
  clock::time_point next_attempt(const std::string& peer) const;
  void opened(tcp_connection_info info);
  void closed(const address& worker);
  std::vector<tcp_connection_info> open_connections() const;

  void add_acceptor(std::weak_ptr<boost::asio::ip::tcp::acceptor> a, tcp_listener_info info);
  void close_acceptors();
  /// Closes the acceptor bound at `bound`; its flow, for ending its exposures, or nothing.
  std::optional<std::string> close_acceptor(std::string_view bound);
  std::vector<tcp_listener_info> listeners() const;

private:
  mutable std::mutex mutex_;
  std::shared_ptr<context> control;
  std::unordered_map<std::string, tcp_peer> peers_;
  std::map<address, tcp_connection_info> open_;
  struct acceptor_entry {
    std::weak_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    tcp_listener_info info;
  };
  std::vector<acceptor_entry> acceptors_;
};

/// Options every connection gets: TCP_NODELAY (latency) and keepalive (dead peers).
void configure_socket(boost::asio::ip::tcp::socket& socket);

using nodus::split_host_port;  // nodus/core/host_port.hpp

/// Serves one connection: sends what it receives as frames, and runs the socket's read loop.
class tcp_connection_worker final : public raw_worker {
public:
  /// An outgoing connection to `peer`, dialled in `initialize` when `connect_now`, otherwise
  /// on the first message (after the back-off a previous failure set).
  tcp_connection_worker(std::shared_ptr<tcp_shared> shared, std::string peer, bool connect_now,
                        std::shared_ptr<const flow_origin> origin);
  /// A connection accepted by a listener.
  tcp_connection_worker(std::shared_ptr<tcp_shared> shared, std::shared_ptr<tcp_link> accepted);

  task<result<>> initialize(context& ctx) override;
  task<result<>> handle_message(context& ctx, local_message message) override;
  /// A delivery-error notice goes over the connection like any message: it is on its way back
  /// to whoever sent what could not be delivered. Only over a connection that is open: a notice
  /// never makes this node dial.
  task<result<>> handle_delivery_error(context& ctx, local_message notice) override;
  task<> shutdown(context& ctx) override;
  /// Why the last connection attempt failed (the runtime reports only that initialize failed).
  std::error_code last_error() const noexcept { return last_error_; }

private:
  task<result<>> dial(context& ctx);
  void start_reading(context& ctx);

  std::shared_ptr<tcp_shared> shared_;
  std::string peer_;
  std::shared_ptr<const flow_origin> origin_;  // outgoing: given to the link once dialled
  bool outgoing_;
  bool connect_now_ = false;
  bool attempt_failed_ = false;
  std::error_code last_error_;
  std::shared_ptr<tcp_link> link_;
};

/// `ip:port`, or `[ip6]:port`.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e);

/// Accepts connections on `acceptor` until it is closed.
/// Accepts connections on `acceptor` until it is closed; each connection's messages come in by
/// a flow of its own whose parent is `listener_flow`.
task<> accept_loop(std::shared_ptr<tcp_shared> shared, std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor,
                   std::string listener_flow);

}  // namespace nodus::detail
