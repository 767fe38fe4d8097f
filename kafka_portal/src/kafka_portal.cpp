// Making and stopping Kafka inlets and outlets: each is portal inlets or outlets with the Kafka
// filter (filters.cpp), their shared state (portal_state.cpp), and a control worker whose
// shutdown lets go of the node when it stops.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/kafka_portal/kafka_portal.hpp"

#include <fmt/format.h>
#include <boost/asio/strand.hpp>

#include "nodus/core/error.hpp"
#include "nodus/core/host_port.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/worker.hpp"
#include "portal_state.hpp"

namespace nodus::kafka_portal {
namespace {

using detail::inlet_state;
using detail::outlet_state;

nodus::address control_address(const nodus::address& at) { return nodus::address(at.value() + ".control"); }

// Holds the state for the registry and lets go of the node when the node stops. It takes no
// messages.
template <class State>
class control_worker final : public raw_worker {
public:
  explicit control_worker(std::shared_ptr<State> s) : state_(std::move(s)) {}
  task<result<>> handle_message(context&, local_message) override { co_return errc::access_denied; }
  task<> shutdown(context&) override {
    state_->control.release();
    co_return;
  }

private:
  std::shared_ptr<State> state_;
};

std::string cut(std::string_view text) { return printable(as_bytes(text.substr(0, 200))); }

}  // namespace

task<result_or_failure<portal::tcp_outlet>> create_kafka_outlet(context& ctx, nodus::address at, outlet_options o) {
  const auto label = fmt::format("kafka outlet '{}'", at);
  if (!split_host_port(o.bootstrap_server))
    co_return fail(errc::invalid_address,
                   fmt::format("{}: the bootstrap server '{}' is not host:port", label, cut(o.bootstrap_server)));
  auto state = std::make_shared<outlet_state>(at, o, boost::asio::make_strand(io_executor(ctx)), ctx.log());
  state->control.set(std::make_shared<context>(ctx.new_detached("kafka.control.")));
  auto started = co_await ctx.start_worker(control_address(at), control_worker<outlet_state>(state));
  if (!started) {
    state->control.release();
    co_return fail(started.error(), fmt::format("{}: {}", label, started.error().message()));
  }
  auto po = o.portal;
  po.target = o.bootstrap_server;
  po.filter = state->filter_factory();
  auto made = co_await portal::create_tcp_outlet(ctx, at, std::move(po));
  if (!made) {
    (void)co_await ctx.stop_worker(control_address(at));
    co_return made.error();
  }
  detail::register_state(ctx, at, state, false);
  ctx.log().info("{}: bootstrapping from {}", label, cut(o.bootstrap_server));
  co_return made.value();
}

task<result_or_failure<kafka_inlet>> create_kafka_inlet(context& ctx, nodus::address at, inlet_options o) {
  const auto label = fmt::format("kafka inlet '{}'", at);
  auto bind = split_host_port(o.bind);
  if (!bind) co_return fail(errc::invalid_address, fmt::format("{}: '{}' is not host:port", label, cut(o.bind)));
  const auto bind_port = std::stoul(bind.value().second);
  auto first = o.first_broker_port, last = o.last_broker_port;
  if (first == 0 && last == 0 && bind_port != 0) {
    if (bind_port + 100 > 65535)
      co_return fail(std::make_error_code(std::errc::invalid_argument),
                     fmt::format("{}: no room for the 100 broker ports after {}; give a range", label, bind_port));
    first = static_cast<std::uint16_t>(bind_port + 1);
    last = static_cast<std::uint16_t>(bind_port + 100);
  } else if (first == 0 || last < first) {
    if (!(first == 0 && last == 0))
      co_return fail(std::make_error_code(std::errc::invalid_argument),
                     fmt::format("{}: the broker port range {}-{} is empty", label, first, last));
  }
  if (o.to.empty() && !o.resolve)
    co_return fail(errc::empty_route, fmt::format("{}: neither a route to the outlet nor a resolver", label));
  auto state = std::make_shared<inlet_state>(at, o, bind.value().first, first, last,
                                             boost::asio::make_strand(io_executor(ctx)), ctx.log());
  if (!o.capture_path.empty()) {
    auto capture = detail::frame_capture::open(o.capture_path);
    if (!capture) co_return fail(capture.error().code, fmt::format("{}: {}", label, capture.error().message()));
    state->capture = capture.value();
  }
  if (o.protection.keys) {
    if (!o.protection.seal && !o.protection.open)
      co_return fail(std::make_error_code(std::errc::invalid_argument),
                     fmt::format("{}: keys given, but neither sealing nor opening asked for", label));
    state->protection = std::make_shared<detail::protection_state>(o.protection, at, ctx.log());
  }
  state->control.set(std::make_shared<context>(ctx.new_detached("kafka.control.")));
  auto started = co_await ctx.start_worker(control_address(at), control_worker<inlet_state>(state));
  if (!started) {
    state->control.release();
    co_return fail(started.error(), fmt::format("{}: {}", label, started.error().message()));
  }
  auto made = co_await portal::create_tcp_inlet(ctx, at, state->portal_options(-1, o.bind));
  if (!made) {
    (void)co_await ctx.stop_worker(control_address(at));
    co_return made.error();
  }
  detail::register_state(ctx, at, state, true);
  if (first == 0)
    ctx.log().info("{}: clients bootstrap from {}; brokers get free ports", label, made.value().bound());
  else
    ctx.log().info("{}: clients bootstrap from {}; brokers get ports {}-{}", label, made.value().bound(), first, last);
  co_return kafka_inlet(at, made.value().bound());
}

std::vector<broker_port> inlet_brokers(const context& ctx, const nodus::address& at) {
  auto s = std::static_pointer_cast<inlet_state>(detail::find_state(ctx, at, true));
  return s ? s->brokers() : std::vector<broker_port>{};
}

record_protection_stats inlet_protection_stats(const context& ctx, const nodus::address& at) {
  auto s = std::static_pointer_cast<inlet_state>(detail::find_state(ctx, at, true));
  return s && s->protection ? s->protection->stats() : record_protection_stats{};
}

std::vector<nodus::address> outlet_brokers(const context& ctx, const nodus::address& at) {
  auto s = std::static_pointer_cast<outlet_state>(detail::find_state(ctx, at, false));
  return s ? s->broker_outlets() : std::vector<nodus::address>{};
}

task<result<>> stop_kafka_inlet(context& ctx, const nodus::address& at) {
  auto s = std::static_pointer_cast<inlet_state>(detail::find_state(ctx, at, true));
  if (!s) co_return errc::unknown_address;
  detail::unregister_state(ctx, at, true);
  for (const auto& b : s->brokers())
    (void)co_await portal::stop_tcp_inlet(ctx, detail::broker_address_of(at, b.node_id));
  auto stopped = co_await portal::stop_tcp_inlet(ctx, at);
  (void)co_await ctx.stop_worker(control_address(at));
  co_return stopped;
}

task<result<>> stop_kafka_outlet(context& ctx, const nodus::address& at) {
  auto s = std::static_pointer_cast<outlet_state>(detail::find_state(ctx, at, false));
  if (!s) co_return errc::unknown_address;
  detail::unregister_state(ctx, at, false);
  for (const auto& b : s->broker_outlets()) (void)co_await portal::stop_tcp_outlet(ctx, b);
  auto stopped = co_await portal::stop_tcp_outlet(ctx, at);
  (void)co_await ctx.stop_worker(control_address(at));
  co_return stopped;
}

}  // namespace nodus::kafka_portal
