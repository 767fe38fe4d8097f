#include <utility>  // before Asio's awaitable.hpp

#include "nodus/transports/tcp.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>

#include "nodus/core/delivery_error.hpp"
#include "nodus/node/extension.hpp"
#include "tcp_shared.hpp"

namespace nodus {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace detail {

namespace {

// The longest piece of an address quoted in a delivery error's reason.
constexpr std::size_t max_quoted = 64;

// Starts (or finds) the worker for an outgoing connection to `peer`.
task<result<address>> connection_to(context& ctx, std::shared_ptr<tcp_shared> shared, std::string peer,
                                    bool connect_now) {
  if (auto existing = shared->connection_for(peer); !existing.value().empty()) co_return existing;
  if (auto parsed = split_host_port(peer); !parsed) co_return parsed.error();
  const auto worker = address::random_local("tcp.out.");
  shared->claim(peer, worker);
  auto origin = std::make_shared<const flow_origin>(
      flow_origin{context::new_flow("tcp-out."), {}, fmt::format("tcp connection to {} ({})", peer, worker)});
  auto connection = std::make_shared<tcp_connection_worker>(shared, peer, connect_now, origin);
  std::vector<address> addresses(1, worker);  // no braces inside co_await (g++ 12, see README)
  auto options = shared->connection_worker_options(std::move(origin));
  auto started = co_await ctx.start_worker_ptr(std::move(addresses), connection, std::move(options));
  if (!started) {
    shared->release(peer, worker, /*attempt_failed=*/true);
    co_return connection->last_error() ? connection->last_error() : started.error();
  }
  co_return worker;
}

// Takes every message whose next hop is a `tcp(...)` address and hands it to that peer's
// connection worker, replacing the hop with the worker's address. A delivery-error notice is
// never passed on here (the default `handle_delivery_error` drops it): its route was chosen by
// another node, and a notice must not make this node dial anywhere.
class tcp_router final : public raw_worker {
public:
  explicit tcp_router(std::shared_ptr<tcp_shared> shared) : shared_(std::move(shared)) {}

  task<result<>> handle_message(context& ctx, local_message message) override {
    const auto peer = message.onward_route.next().value();
    if (!shared_->may_dial(message)) {
      // Nobody on the network may make this node connect somewhere (blind request forgery).
      ctx.log().warn(
          "tcp: a message from {} may not open or use a connection to {}: only this node's own messages "
          "may (allow the peer with tcp_options::allow_outgoing, `nodus hub --allow-outgoing`)",
          message.origin->description, message.onward_route.next());
      report_undeliverable(ctx, message, errc::access_denied,
                           fmt::format("this node may not connect to '{}' for another node (allow_outgoing)",
                                       printable_cut(message.onward_route.next().to_string(), max_quoted)));
      co_return errc::access_denied;
    }
    auto connection = co_await connection_to(ctx, shared_, peer, /*connect_now=*/false);
    if (!connection) {
      ctx.log().warn("tcp: message to {} dropped: {}", message.onward_route, connection.error().message());
      report_undeliverable(ctx, message, errc::unknown_address,
                           fmt::format("cannot connect to '{}'", printable_cut(peer, max_quoted)));
      co_return connection.error();
    }
    (void)message.onward_route.step();
    message.onward_route.prepend(connection.value());
    co_return co_await ctx.forward(std::move(message));
  }

  task<> shutdown(context&) override {
    shared_->close_acceptors();
    shared_->release_control();  // the control context holds the node; let it go
    co_return;
  }

private:
  std::shared_ptr<tcp_shared> shared_;
};

task<result<std::shared_ptr<tcp_shared>>> start_transport(context& ctx, tcp_options options) {
  auto control = std::make_shared<context>(ctx.new_detached("tcp.control."));
  auto shared = std::make_shared<tcp_shared>(std::move(options), io_executor(ctx), ctx.log(), std::move(control));
  const address router{std::string(tcp_transport::router_address)};  // braces: not a function declaration
  auto started = co_await ctx.start_worker(router, tcp_router(shared), shared->router_options());
  if (!started) co_return started.error();
  register_transport(ctx, tcp_type, router);
  co_return shared;
}

}  // namespace
}  // namespace detail

task<result<tcp_transport>> tcp_transport::create(context& ctx, tcp_options options) {
  auto shared = co_await detail::start_transport(ctx, std::move(options));
  if (!shared) co_return shared.error();
  co_return tcp_transport(std::move(shared).value());
}

namespace {
task<result<tcp_transport>> create_blocking(context& ctx, tcp_options options) {
  co_return co_await tcp_transport::create(ctx, std::move(options));
}
}  // namespace

result<tcp_transport> tcp_transport::create(node& n, tcp_options options) {
  return n.block_on([&](context& ctx) { return create_blocking(ctx, std::move(options)); });
}

result<std::string> tcp_transport::listen(std::string_view bind, tcp_listener_options options) {
  auto control = shared_->control_context();
  if (!control) return errc::stopped;
  auto host_port = detail::split_host_port(bind);
  if (!host_port) return host_port.error();
  boost::system::error_code ec;
  tcp::resolver resolver(shared_->io);
  const auto endpoints = resolver.resolve(host_port.value().first, host_port.value().second,
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) return std::error_code(ec);
  if (endpoints.empty()) return errc::invalid_address;
  const auto endpoint = endpoints.begin()->endpoint();

  auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(shared_->io));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);  // restart on the same port at once
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return std::error_code(ec);
  const auto bound = detail::endpoint_text(acceptor->local_endpoint());
  if (options.flow.empty()) options.flow = context::new_flow("tcp-listener.");
  shared_->add_acceptor(acceptor, {.bound = bound, .flow = options.flow, .expose = options.expose});
  for (auto& worker : options.expose) control->expose(options.flow, std::move(worker));
  auto strand = acceptor->get_executor();
  asio::co_spawn(strand, detail::accept_loop(shared_, std::move(acceptor), options.flow), asio::detached);
  shared_->log.info("tcp: listening on {}", bound);
  return bound;
}

task<result<address>> tcp_transport::connect(std::string peer) {
  auto control = shared_->control_context();
  if (!control) co_return errc::stopped;
  co_return co_await detail::connection_to(*control, shared_, std::move(peer), /*connect_now=*/true);
}

namespace {
// A free coroutine: its frame holds its own copy of the transport.
task<result<>> connect_with(tcp_transport transport, std::string peer) {
  auto connected = co_await transport.connect(std::move(peer));
  if (!connected) co_return connected.error();
  co_return outcome::success();
}
}  // namespace

std::function<task<result<>>(context&, std::string)> tcp_transport::connector() const {
  return [transport = *this](context&, std::string peer) { return connect_with(transport, std::move(peer)); };
}

result<> tcp_transport::stop_listening(std::string_view bound) {
  auto flow = shared_->close_acceptor(bound);
  if (!flow) return errc::unknown_address;
  if (auto control = shared_->control_context()) control->unexpose_flow(*flow);
  shared_->log.info("tcp: stopped listening on {}", bound);
  return outcome::success();
}

std::vector<tcp_listener_info> tcp_transport::listeners() const { return shared_->listeners(); }

tcp_stats tcp_transport::stats() const {
  const auto& c = *shared_->counters;
  constexpr auto relaxed = std::memory_order_relaxed;
  return {c.bytes_in.load(relaxed),
          c.bytes_out.load(relaxed),
          c.messages_in.load(relaxed),
          c.messages_out.load(relaxed),
          c.connections_accepted.load(relaxed),
          c.connections_dialled.load(relaxed)};
}

std::vector<tcp_connection_info> tcp_transport::connections() const { return shared_->open_connections(); }

const tcp_options& tcp_transport::options() const noexcept { return shared_->options; }

}  // namespace nodus
