// Listening: binds an acceptor and serves every accepted connection with its own worker.

#include <utility>  // before Asio's awaitable.hpp (see README)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "tcp_shared.hpp"

namespace nodus::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

std::string endpoint_text(const tcp::endpoint& e) {
  return e.address().is_v6() ? fmt::format("[{}]:{}", e.address().to_string(), e.port())
                             : fmt::format("{}:{}", e.address().to_string(), e.port());
}

task<> accept_loop(std::shared_ptr<tcp_shared> shared, std::shared_ptr<tcp::acceptor> acceptor,
                   std::string listener_flow) {
  const auto where = endpoint_text(acceptor->local_endpoint());
  for (;;) {
    auto control = shared->control_context();
    if (!control || !acceptor->is_open()) break;
    auto link = std::make_shared<tcp_link>(shared->io);
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
    const auto worker = address::random_local("tcp.in.");
    link->origin = std::make_shared<const flow_origin>(
        flow_origin{context::new_flow("tcp-in."), listener_flow,
                    fmt::format("tcp connection from {} ({}, listener {})", link->peer, worker, where)});
    auto options = shared->connection_worker_options(link->origin);
    auto started = co_await control->start_worker(worker, tcp_connection_worker(shared, link), std::move(options));
    if (!started) shared->log.warn("tcp: connection from {} not served: {}", link->peer, started.error().message());
    else shared->log.debug("tcp: accepted {} on {} ({})", link->peer, where, worker);
  }
  shared->log.debug("tcp: stopped listening on {}", where);
}

}  // namespace nodus::detail
