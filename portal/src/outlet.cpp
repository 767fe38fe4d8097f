// The outlet: a worker that takes open requests. For each it dials its one fixed target (nothing
// from the network says where), then starts a connection worker that only the requester's flow
// can reach, and answers `opened`.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
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

// Runs on the connection's strand: looks the target up and connects within connect_timeout,
// then starts the connection's worker and answers the inlet.
task<> dial(std::shared_ptr<connection> c, std::shared_ptr<side> s) {
  auto resolver = std::make_shared<tcp::resolver>(c->strand());
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer timer(c->strand(), s->settings.connect_timeout);
  timer.async_wait([c, resolver, timed_out](boost::system::error_code ec) {
    if (ec || c->closed()) return;
    *timed_out = true;
    resolver->cancel();
    boost::system::error_code ignored;
    c->socket().close(ignored);
  });
  boost::system::error_code ec;
  auto endpoints = co_await resolver->async_resolve(s->host, s->port, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && !c->closed())
    co_await asio::async_connect(c->socket(), endpoints, asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  if (c->closed()) co_return;  // the outlet stopped meanwhile
  if (ec || *timed_out) {
    std::string why = ec.message();
    if (*timed_out)
      why = fmt::format("no connection within {} ms (connect_timeout)", s->settings.connect_timeout.count());
    c->fail(close_code::connect_failed, fmt::format("cannot connect: {}", why),
            fmt::format("the outlet cannot connect to its target: {}", why));
    co_return;
  }
  configure_socket(c->socket());
  c->counted_open();
  auto control = s->control();
  if (!control) co_return;                       // stopping: the stop closes the connection
  std::vector<address> addresses(1, c->self());  // no braces inside co_await (docs/contributing.md)
  auto worker = std::make_shared<connection_worker>(c);
  // Reachable from this node and from the flow `opened` goes into (the requester's, as its
  // answers are): nobody else. The connection checks each message's flow as well.
  worker_options options;
  auto started = co_await control->start_worker_ptr(std::move(addresses), std::move(worker), std::move(options));
  if (!started) {
    c->fail(close_code::stopped, fmt::format("its worker did not start: {}", started.error().message()),
            "the outlet cannot serve the connection");
    co_return;
  }
  c->worker_started();
  if (c->closed()) {
    co_await control->stop_worker(c->self());
    co_return;
  }
  co_await connection::accept(c);
}

task<result<>> refuse(context& ctx, route back, close_code code, std::string reason) {
  auto answer = encode(message::close(code, std::move(reason)));
  co_return co_await ctx.send(std::move(back), std::move(answer));
}

class outlet_worker final : public raw_worker {
public:
  explicit outlet_worker(std::shared_ptr<side> s) : side_(std::move(s)) {}

  task<result<>> initialize(context& ctx) override {
    register_side(ctx, side_);
    side_->log.info("{}: connects to {}", side_->label, side_->state->endpoint);
    co_return ok();
  }

  task<result<>> handle_message(context& ctx, local_message m) override {
    const auto from = m.origin ? m.origin->description : std::string("this node");
    if (m.return_route.empty()) {
      side_->log.warn("{}: a message from {} with no return route dropped", side_->label, from);
      co_return ok();
    }
    auto decoded = decode(m.payload);
    if (!decoded || decoded.value().kind != message_kind::open) {
      // Plain ifs, not ?: over strings: g++ 12 mishandles those in coroutines (docs/contributing.md).
      std::string what = "is not an open request";
      std::string answer = "the outlet takes open requests only";
      auto code = close_code::protocol;
      if (!decoded && decoded.error() == errc::unsupported_version) {
        what = fmt::format("speaks another version of the portal protocol (this outlet: {})", protocol_version);
        answer = fmt::format("this outlet speaks version {} of the portal protocol", protocol_version);
        code = close_code::unsupported_version;
      } else if (!decoded) {
        what = fmt::format("does not decode ({})", decoded.error().message());
        answer = fmt::format("the request does not decode ({})", decoded.error().message());
      }
      side_->log.warn("{}: a message from {} {}; refused", side_->label, from, what);
      (void)co_await refuse(ctx, m.return_route, code, std::move(answer));
      co_return ok();
    }
    start_connection(std::move(m), decoded.value().value);
    co_return ok();
  }

  task<> shutdown(context& ctx) override { co_await stop_connections(ctx, side_, "the outlet is stopping"); }

private:
  void start_connection(local_message m, std::uint64_t window) {
    auto strand = asio::make_strand(side_->io);
    tcp::socket socket(strand);
    auto c = std::make_shared<connection>(side_, new_connection_address("portal.out."), strand, std::move(socket),
                                          side_->state->endpoint);
    c->set_opener(std::move(m.return_route), m.origin, window);
    side_->state->total += 1;
    if (!side_->add(c, c->self())) {
      std::string why = "the outlet is stopping";
      if (!side_->stopping())
        why =
            fmt::format("the outlet has reached its limit of {} connections (max_connections)", side_->max_connections);
      asio::post(strand, [c, why] { c->fail(close_code::refused, "refused: " + why, why); });
      return;
    }
    asio::co_spawn(strand, dial(c, side_), asio::detached);
  }

  std::shared_ptr<side> side_;
};

}  // namespace
}  // namespace detail

task<result_or_failure<tcp_outlet>> create_tcp_outlet(context& ctx, nodus::address at, outlet_options o) {
  const auto label = fmt::format("tcp outlet '{}'", at);
  if (auto bad = detail::invalid_sizes(o.window_bytes, o.chunk_bytes); !bad.empty())
    co_return fail(std::make_error_code(std::errc::invalid_argument), fmt::format("{}: {}", label, bad));
  auto target = detail::split_host_port(o.target);
  if (!target)
    co_return fail(target.error(), fmt::format("{}: the target '{}' is not host:port", label,
                                               printable(as_bytes(std::string_view(o.target).substr(0, 200)))));
  auto state = std::make_shared<detail::portal_state>();
  state->at = at;
  state->endpoint = o.target;
  const detail::connection_settings settings{.window = o.window_bytes,
                                             .chunk = o.chunk_bytes,
                                             .keepalive = o.keepalive_interval,
                                             .peer_timeout = o.peer_timeout,
                                             .connect_timeout = o.connect_timeout};
  auto control = std::make_shared<context>(ctx.new_detached("portal.control."));
  auto s = std::make_shared<detail::side>(detail::side::kind::outlet, state, settings, o.max_connections,
                                          io_executor(ctx), ctx.log(), std::move(control));
  s->host = std::move(target.value().first);
  s->port = std::move(target.value().second);
  s->filter = std::move(o.filter);
  worker_options guarded;
  guarded.access = std::move(o.access);
  auto started = co_await ctx.start_worker(at, detail::outlet_worker(s), std::move(guarded));
  if (!started) {
    s->release_control();
    co_return fail(started.error(), fmt::format("{}: cannot start its worker: {}", label, started.error().message()));
  }
  co_return tcp_outlet(std::move(state));
}

}  // namespace nodus::portal
