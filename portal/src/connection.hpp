#pragma once
// One portal connection at one end: a socket (a client's at an inlet, the target's at an outlet),
// the worker that takes the other end's messages, and the coroutines that pump bytes both ways.
// All of its state lives on its strand.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "nodus/node/worker.hpp"
#include "nodus/portal/protocol.hpp"
#include "side.hpp"

namespace nodus::portal::detail {

using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

class connection : public std::enable_shared_from_this<connection> {
public:
  /// `socket` is bound to `strand`; `endpoint` names it in logs (the client's `host:port` at an
  /// inlet, the target at an outlet).
  connection(std::shared_ptr<side> s, address self, strand_type strand, boost::asio::ip::tcp::socket socket,
             std::string endpoint);
  ~connection();

  const address& self() const noexcept { return self_; }
  const strand_type& strand() const noexcept { return strand_; }
  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
  /// Closed, for good (on the strand).
  bool closed() const noexcept { return phase_ == phase::closed; }

  // Everything below runs on the strand.

  /// Inlet: from the accept on, the outlet must answer within `open_timeout`.
  void start_open_timer();
  /// Inlet: the worker is started; sends `open` along `to` (the outlet's answer opens the rest).
  static task<> open(std::shared_ptr<connection> c, route to);
  /// Outlet: who asked (the route back to the inlet's connection worker, the flow its request
  /// came by, its window). Before the dial.
  void set_opener(route back, const std::shared_ptr<const flow_origin>& origin, std::uint64_t window);
  /// Outlet: the target is connected (counted open) and the worker started: says `opened` and
  /// starts pumping.
  static task<> accept(std::shared_ptr<connection> c);
  /// A message that reached the connection's worker.
  static task<> receive(std::shared_ptr<connection> c, local_message m);
  /// Ends the connection: one log line (`what` happened to it), the other end told `wire` (not
  /// when empty), the socket closed, the worker stopped.
  void fail(close_code code, const std::string& what, std::string wire);
  /// Ends it for a stop of its inlet or outlet (`why`), and returns once the other end has been
  /// told and the worker has stopped.
  static task<> stop(std::shared_ptr<connection> c, std::string why);
  /// This end's socket is now open (counted in `connections_open`).
  void counted_open();
  /// The worker has been started / has run its shutdown.
  void worker_started() noexcept { worker_started_ = true; }
  void worker_stopped();

private:
  enum class phase { idle, opening, open, closed };
  struct chunk {  // bytes waiting for the socket: `size` bytes from `begin` of `storage`
    bytes storage;
    std::size_t begin = 0;
    std::size_t size = 0;
    bool merged = false;  // small chunks copied together (bounds the count of buffers held)
    // With a filter: how much of the other end's stream has been taken in once this is written.
    std::uint64_t input_end = 0;
  };
  struct filtered_data {  // a data message waiting for the filter (it borrows from `payload`)
    bytes payload;
    byte_view data;
    std::uint64_t offset = 0;
  };

  std::string describe() const;
  void handle(local_message m);
  void on_opened(const local_message& m, const message& opened);
  void on_data(bytes payload, byte_view data, std::uint64_t offset);
  /// Whether `size` bytes at stream position `offset` may arrive now (else a protocol error).
  bool data_allowed(std::size_t size, std::uint64_t offset);
  void start_writing();
  // With a filter (stream_filter.hpp): the other end's bytes go through it on their way to the
  // socket; acknowledgements count the bytes the filter has taken whose output is written.
  static task<> on_filtered_data(std::shared_ptr<connection> c, filtered_data d);
  void queue_filtered(bytes out);
  void note_written(std::uint64_t upto);
  static task<bool> read_filtered(std::shared_ptr<connection> c);
  /// Sends `out` to the other end as data messages, each within its window; false when the
  /// connection has ended.
  static task<bool> send_data(std::shared_ptr<connection> c, byte_view out);
  void on_ack(std::uint64_t written);
  void on_eof(std::uint64_t total);
  void on_close(const message& m);
  void protocol_error(const std::string& what);
  void shut_down_output();
  void maybe_finish();
  /// Marks it closed, closes the socket, gives back its counts; the close message to send, if any.
  bytes close_now(close_code code, const std::string& wire);
  void start_pumping();
  void schedule_ack();
  void say_later(const message& m);
  task<result<>> say(bytes payload);

  static task<> read_loop(std::shared_ptr<connection> c);
  static task<> write_loop(std::shared_ptr<connection> c);
  static task<> ack_loop(std::shared_ptr<connection> c);
  static task<> tick_loop(std::shared_ptr<connection> c);
  static task<> say_detached(std::shared_ptr<connection> c, bytes payload);
  static task<> finish_close(std::shared_ptr<connection> c, bytes close_message);

  const std::shared_ptr<side> side_;
  const address self_;
  strand_type strand_;
  boost::asio::ip::tcp::socket socket_;
  const std::string endpoint_;
  boost::asio::steady_timer credit_;  // the read loop waits here for acks
  boost::asio::steady_timer tick_;    // open timeout, then keepalive and peer timeout

  phase phase_ = phase::idle;
  bool counted_open_ = false;
  bool worker_started_ = false;
  bool worker_gone_ = false;
  route peer_;             // to the other end's connection worker (inlet, opening: to the outlet)
  std::string peer_flow_;  // the flow the other end's messages come by ("" for this node)
  bool pinned_ = false;    // peer_flow_ is known: nothing else reaches this connection
  std::string peer_text_;  // the other end, for logs
  std::uint64_t peer_window_ = 0;
  // This end's socket to the other end.
  std::uint64_t sent_ = 0, acked_ = 0;
  bool read_done_ = false;
  // The other end's stream to this end's socket.
  std::uint64_t received_ = 0, written_ = 0, ack_sent_ = 0;
  bool peer_eof_ = false, shut_wr_ = false;
  std::deque<chunk> outbox_;
  std::unique_ptr<stream_filter> filter_;   // null unless the side has a filter factory
  std::optional<filtered_data> filtering_;  // set by `handle` for `receive` to pass on
  bytes filter_buffer_;                     // what the socket is read into for the filter
  bool writing_ = false, acking_ = false;
  clock::time_point last_heard_{}, last_said_{};
};

/// A connection's worker: hands each message to the connection, on its strand, one at a time.
class connection_worker final : public raw_worker {
public:
  explicit connection_worker(std::shared_ptr<connection> c) : connection_(std::move(c)) {}
  task<result<>> handle_message(context& ctx, local_message message) override;
  task<> shutdown(context& ctx) override;

private:
  std::shared_ptr<connection> connection_;
};

/// Stops an inlet or outlet: no more connections, then every open one closed (each tells the
/// other end and logs it), then the side forgets the node (its registration, its control context).
task<> stop_connections(context& ctx, std::shared_ptr<side> s, std::string why);

}  // namespace nodus::portal::detail
