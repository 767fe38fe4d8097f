// Listening: binds an acceptor and serves every accepted connection with its own worker.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tcp_shared.hpp"

namespace nodus::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

std::string endpoint_text(const tcp::endpoint& e) {
  return e.address().is_v6() ? fmt::format("[{}]:{}", e.address().to_string(), e.port())
                             : fmt::format("{}:{}", e.address().to_string(), e.port());
}

namespace {

// Says that connections over the cap were refused: the first at once, then at most one line a
// second with how many, so that a flood cannot fill the log. On the acceptor's strand.
class refusal_log : public std::enable_shared_from_this<refusal_log> {
public:
  static constexpr auto interval = std::chrono::seconds(1);

  refusal_log(const asio::any_io_executor& strand, std::shared_ptr<tcp_shared> shared, std::string where)
      : timer_(strand), shared_(std::move(shared)), where_(std::move(where)) {}

  void refused(std::string peer) {
    ++unreported_;
    last_peer_ = std::move(peer);
    if (waiting_) return;
    if (clock::now() - last_line_ >= interval) {
      report();
      return;
    }
    waiting_ = true;
    timer_.expires_at(last_line_ + interval);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
      self->waiting_ = false;
      self->report();
    });
  }
  /// Reports what is unreported (the listener is closing).
  void flush() {
    timer_.cancel();
    report();
  }

private:
  void report() {
    if (unreported_ == 0) return;
    shared_->log.warn(
        "tcp: refused {} connection{} on {} (the last from {}): the limit of {} open connections "
        "(max_connections) is reached",
        unreported_, unreported_ == 1 ? "" : "s", where_, last_peer_, shared_->options.max_connections);
    unreported_ = 0;
    last_line_ = clock::now();
  }

  asio::steady_timer timer_;
  std::shared_ptr<tcp_shared> shared_;
  std::string where_;
  std::size_t unreported_ = 0;
  std::string last_peer_;
  clock::time_point last_line_{};
  bool waiting_ = false;
};

}  // namespace

task<> accept_loop(std::shared_ptr<tcp_shared> shared, std::shared_ptr<tcp::acceptor> acceptor,
                   std::string listener_flow) {
  const auto where = endpoint_text(acceptor->local_endpoint());
  const auto& options = shared->options;
  auto budget = std::make_shared<tcp_listener_budget>(options.max_connections, options.max_buffered_bytes);
  auto refusals = std::make_shared<refusal_log>(acceptor->get_executor(), shared, where);
  for (;;) {
    auto control = shared->control_context();
    if (!control || !acceptor->is_open()) break;
    auto link = std::make_shared<tcp_link>(shared->io, shared->counters);
    boost::system::error_code ec;
    co_await acceptor->async_accept(link->socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
    if (ec) {  // e.g. out of file descriptors: wait a little instead of spinning
      shared->log.warn("tcp: accepting on {} failed: {}", where, ec.message());
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    configure_socket(link->socket);
    boost::system::error_code ignored;
    const auto remote = link->socket.remote_endpoint(ignored);
    link->peer = ignored ? std::string("unknown peer") : endpoint_text(remote);
    if (!budget->open_connection()) {  // over the cap: closed before anything is read or allocated
      link->socket.close(ignored);
      refusals->refused(link->peer);
      continue;
    }
    link->budget = tcp_budget_share(budget);
    const auto worker = address::random_local("tcp.in.");
    link->origin = std::make_shared<const flow_origin>(
        flow_origin{context::new_flow("tcp-in."), listener_flow,
                    fmt::format("tcp connection from {} ({}, listener {})", link->peer, worker, where)});
    auto worker_opts = shared->connection_worker_options(link->origin);
    auto started = co_await control->start_worker(worker, tcp_connection_worker(shared, link), std::move(worker_opts));
    if (!started)
      shared->log.warn("tcp: connection from {} not served: {}", link->peer, started.error().message());
    else
      shared->counters->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    shared->log.debug("tcp: accepted {} on {} ({})", link->peer, where, worker);
  }
  refusals->flush();
  shared->log.debug("tcp: stopped listening on {}", where);
}

}  // namespace nodus::detail
