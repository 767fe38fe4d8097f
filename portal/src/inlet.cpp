// The inlet: a worker that owns the listening socket; each accepted client connection gets a
// route to the outlet (fixed, or from the resolver), a connection worker, and an open request.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "connection.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/portal/portal.hpp"

namespace nodus::portal {
namespace detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Connections refused over max_connections: the first said at once, then at most one line a
// second with how many, so a flood cannot fill the log. On the acceptor's strand only.
class refusals {
public:
  void refused(const side& s, std::string peer) {
    ++unreported_;
    last_peer_ = std::move(peer);
    if (clock::now() - last_line_ >= std::chrono::seconds(1)) report(s);
  }
  void report(const side& s) {
    if (unreported_ == 0) return;
    s.log.warn(
        "{}: refused {} connection{} (the last from {}): the limit of {} open connections (max_connections) "
        "is reached",
        s.label, unreported_, unreported_ == 1 ? "" : "s", last_peer_, s.max_connections);
    unreported_ = 0;
    last_line_ = clock::now();
  }

private:
  std::size_t unreported_ = 0;
  std::string last_peer_;
  clock::time_point last_line_{};
};

using resolver_fn = std::function<task<result_or_failure<route>>(context&)>;

task<result_or_failure<route>> resolve_route(resolver_fn resolve, context ctx) {
  try {
    co_return co_await resolve(ctx);
  } catch (const std::exception& e) {
    co_return fail(errc::worker_failed, fmt::format("the resolver threw: {}", e.what()));
  }
}

// Runs on the connection's strand: the route, the worker, the open request.
task<> open_inlet_connection(std::shared_ptr<connection> c, std::shared_ptr<side> s) {
  c->start_open_timer();
  route to = s->to;
  if (s->resolve) {
    auto control = s->control();
    if (!control) co_return;  // stopping: the stop closes the connection
    auto resolved = co_await resolve_route(s->resolve, control->new_detached("portal.resolve."));
    if (c->closed()) co_return;
    if (!resolved) {
      c->fail(close_code::refused, fmt::format("no route to the outlet: {}", resolved.error().message()), {});
      co_return;
    }
    to = std::move(resolved).value();
  }
  if (to.empty()) {
    c->fail(close_code::refused, "no route to the outlet: the route is empty", {});
    co_return;
  }
  auto control = s->control();
  if (!control || c->closed()) co_return;
  std::vector<address> addresses(1, c->self());  // no braces inside co_await (docs/contributing.md)
  auto worker = std::make_shared<connection_worker>(c);
  worker_options options;  // only this node, and the flow the open request goes into (for the answers)
  auto started = co_await control->start_worker_ptr(std::move(addresses), std::move(worker), std::move(options));
  if (!started) {
    c->fail(close_code::stopped, fmt::format("its worker did not start: {}", started.error().message()), {});
    co_return;
  }
  c->worker_started();
  if (c->closed()) {  // stopped while the worker started
    co_await control->stop_worker(c->self());
    co_return;
  }
  co_await connection::open(c, std::move(to));
}

task<> accept_loop(std::shared_ptr<side> s, std::shared_ptr<tcp::acceptor> acceptor) {
  refusals refused;
  while (!s->stopping() && acceptor->is_open()) {
    auto strand = asio::make_strand(s->io);
    tcp::socket socket(strand);
    boost::system::error_code ec;
    co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor->is_open() || s->stopping()) break;
    if (ec) {  // e.g. out of file descriptors: wait a little instead of spinning
      s->log.warn("{}: accepting failed: {}", s->label, ec.message());
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    configure_socket(socket);
    boost::system::error_code unknown;
    const auto remote = socket.remote_endpoint(unknown);
    auto peer = unknown ? std::string("an unknown peer") : endpoint_text(remote);
    auto c = std::make_shared<connection>(s, new_connection_address("portal.in."), strand, std::move(socket), peer);
    if (!s->add(c, c->self())) {  // over the cap: closed before anything is read
      refused.refused(*s, std::move(peer));
      continue;
    }
    s->state->total += 1;
    c->counted_open();
    s->log.debug("{}: accepted {} ({})", s->label, peer, c->self());
    asio::co_spawn(strand, open_inlet_connection(c, s), asio::detached);
  }
  refused.report(*s);
}

class inlet_worker final : public raw_worker {
public:
  inlet_worker(std::shared_ptr<side> s, std::shared_ptr<tcp::acceptor> acceptor)
      : side_(std::move(s)), acceptor_(std::move(acceptor)) {}

  task<result<>> initialize(context& ctx) override {
    register_side(ctx, side_);
    auto strand = acceptor_->get_executor();
    asio::co_spawn(strand, accept_loop(side_, acceptor_), asio::detached);
    side_->log.info("{}: listening on {}", side_->label, side_->state->endpoint);
    co_return ok();
  }

  task<result<>> handle_message(context&, local_message m) override {
    side_->log.debug("{}: a message from '{}' dropped: an inlet takes no messages", side_->label, m.return_route);
    co_return ok();
  }

  task<> shutdown(context& ctx) override {
    // The socket must go before the node's io_context does; close it on its strand.
    asio::post(acceptor_->get_executor(), [a = acceptor_] {
      boost::system::error_code ignored;
      a->close(ignored);
    });
    co_await stop_connections(ctx, side_, "the inlet is stopping");
  }

private:
  std::shared_ptr<side> side_;
  std::shared_ptr<tcp::acceptor> acceptor_;
};

result_or_failure<std::shared_ptr<tcp::acceptor>> listen_on(const asio::any_io_executor& io, const std::string& bind) {
  auto host_port = split_host_port(bind);
  if (!host_port) return fail(host_port.error(), fmt::format("'{}' is not host:port", bind));
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host_port.value().first, host_port.value().second,
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) return fail(ec, fmt::format("cannot resolve '{}': {}", bind, ec.message()));
  if (endpoints.empty()) return fail(errc::invalid_address, fmt::format("'{}' resolves to nothing", bind));
  const auto endpoint = endpoints.begin()->endpoint();
  auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(io));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec, fmt::format("cannot listen on {}: {}", bind, ec.message()));
  return acceptor;
}

}  // namespace
}  // namespace detail

task<result_or_failure<tcp_inlet>> create_tcp_inlet(context& ctx, nodus::address at, inlet_options o) {
  const auto label = fmt::format("tcp inlet '{}'", at);
  if (auto bad = detail::invalid_sizes(o.window_bytes, o.chunk_bytes); !bad.empty())
    co_return fail(std::make_error_code(std::errc::invalid_argument), fmt::format("{}: {}", label, bad));
  if (o.to.empty() && !o.resolve)
    co_return fail(errc::empty_route, fmt::format("{}: neither a route to the outlet nor a resolver", label));
  auto io = io_executor(ctx);
  auto acceptor = detail::listen_on(io, o.bind);
  if (!acceptor) co_return fail(acceptor.error().code, fmt::format("{}: {}", label, acceptor.error().reason));

  auto state = std::make_shared<detail::portal_state>();
  state->at = at;
  state->endpoint = detail::endpoint_text(acceptor.value()->local_endpoint());
  const detail::connection_settings settings{.window = o.window_bytes,
                                             .chunk = o.chunk_bytes,
                                             .keepalive = o.keepalive_interval,
                                             .peer_timeout = o.peer_timeout,
                                             .open_timeout = o.open_timeout};
  auto control = std::make_shared<context>(ctx.new_detached("portal.control."));
  auto s = std::make_shared<detail::side>(detail::side::kind::inlet, state, settings, o.max_connections, io, ctx.log(),
                                          std::move(control));
  s->to = std::move(o.to);
  s->resolve = std::move(o.resolve);
  s->filter = std::move(o.filter);
  auto started = co_await ctx.start_worker(at, detail::inlet_worker(s, acceptor.value()));
  if (!started) {
    boost::system::error_code ignored;
    acceptor.value()->close(ignored);
    s->release_control();
    co_return fail(started.error(), fmt::format("{}: cannot start its worker: {}", label, started.error().message()));
  }
  co_return tcp_inlet(std::move(state));
}

}  // namespace nodus::portal
