#include "portal_state.hpp"

#include <map>
#include <tuple>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "nodus/core/error.hpp"
#include "nodus/core/host_port.hpp"
#include "nodus/node/extension.hpp"

namespace nodus::kafka_portal::detail {
namespace asio = boost::asio;

namespace {

// Runs `t` (on the executor this is spawned on) and keeps its result: co_spawn's own result
// needs a default-constructible type, which results are not.
template <class T>
task<> run_into(task<T> t, std::optional<T>* out) {
  out->emplace(co_await std::move(t));
}

template <class T>
task<T> on_strand(const strand_type& strand, task<T> t) {
  std::optional<T> out;
  co_await asio::co_spawn(strand, run_into(std::move(t), &out), asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace

// ---- strand_lock, control_holder ----------------------------------------------------------

task<> strand_lock::lock() {
  while (held_) {
    auto wake = std::make_shared<asio::steady_timer>(strand_, asio::steady_timer::time_point::max());
    waiting_.push_back(wake);
    boost::system::error_code ignored;
    co_await wake->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  held_ = true;
}

void strand_lock::unlock() {
  held_ = false;
  if (waiting_.empty()) return;
  waiting_.front()->cancel();
  waiting_.pop_front();
}

void control_holder::set(std::shared_ptr<context> c) {
  std::lock_guard lock(mutex_);
  control_ = std::move(c);
}
std::shared_ptr<context> control_holder::get() const {
  std::lock_guard lock(mutex_);
  return control_;
}
void control_holder::release() { set(nullptr); }

nodus::address broker_address_of(const nodus::address& base, std::int32_t id) {
  return nodus::address(fmt::format("{}.broker.{}", base.value(), id));
}

// ---- the outlet ---------------------------------------------------------------------------

task<result_or_failure<>> outlet_state::ensure_outlets(std::vector<broker_address> brokers) {
  {
    std::lock_guard lock(mutex_);  // the common case: every broker known, no hop to the strand
    bool all = true;
    for (const auto& b : brokers) all = all && brokers_.contains(b.node_id);
    if (all) co_return outcome::success();
  }
  co_return co_await on_strand(strand, ensure_on_strand(std::move(brokers)));
}

task<result_or_failure<>> outlet_state::ensure_on_strand(std::vector<broker_address> brokers) {
  co_await lock_.lock();
  struct unlock_at_exit {
    strand_lock& l;
    ~unlock_at_exit() { l.unlock(); }
  } unlocker{lock_};
  for (const auto& b : brokers) {
    const auto target = fmt::format("{}:{}", b.host, b.port);
    {
      std::lock_guard lock(mutex_);
      if (auto it = brokers_.find(b.node_id); it != brokers_.end()) {
        if (it->second != target)
          log.warn("kafka outlet '{}': broker {} is now at {}; its portal keeps dialling {}", at, b.node_id,
                   printable(as_bytes(target)), it->second);
        continue;
      }
      if (brokers_.size() >= options.max_brokers)
        co_return fail(errc::too_large,
                       fmt::format("the cluster names more than {} brokers (max_brokers)", options.max_brokers));
    }
    auto control = this->control.get();
    if (!control) co_return fail(errc::stopped, "the outlet has stopped");
    auto o = options.portal;
    o.target = target;
    o.filter = filter_factory();
    const auto broker_at = broker_address_of(at, b.node_id);
    auto made = co_await portal::create_tcp_outlet(*control, broker_at, std::move(o));
    if (!made)
      co_return fail(made.error().code, fmt::format("cannot open the portal to broker {} at {}: {}", b.node_id,
                                                    printable(as_bytes(target)), made.error().message()));
    for (const auto& flow : control->exposures(at)) control->expose(flow, broker_at);
    std::lock_guard lock(mutex_);
    brokers_[b.node_id] = target;
    log.info("kafka outlet '{}': broker {} at {}, reached through {}", at, b.node_id, printable(as_bytes(target)),
             broker_at);
  }
  co_return outcome::success();
}

std::vector<nodus::address> outlet_state::broker_outlets() const {
  std::lock_guard lock(mutex_);
  std::vector<nodus::address> out;
  for (const auto& [id, target] : brokers_) out.push_back(broker_address_of(at, id));
  return out;
}

// ---- the inlet ----------------------------------------------------------------------------

portal::inlet_options inlet_state::portal_options(std::int32_t broker, std::string bind) {
  auto o = options.portal;
  o.bind = std::move(bind);
  o.filter = filter_factory();
  if (broker < 0) {
    o.to = options.to;
    o.resolve = options.resolve;
    return o;
  }
  // The same way as the bootstrap listener's, to the broker's outlet next to the outlet.
  const auto to_broker = [broker](route r) {
    std::vector<nodus::address> hops(r.begin(), r.end());
    hops.back() = broker_address_of(hops.back(), broker);
    return route(std::move(hops));
  };
  if (!options.to.empty()) o.to = to_broker(options.to);
  if (options.resolve) {
    o.resolve = [resolve = options.resolve, to_broker](context& ctx) -> task<result_or_failure<route>> {
      auto r = co_await resolve(ctx);
      if (!r || r.value().empty()) co_return r;
      co_return to_broker(std::move(r.value()));
    };
  }
  return o;
}

task<result_or_failure<inlet_state::local_addresses>> inlet_state::ensure_listeners(
    std::vector<broker_address> brokers) {
  {
    std::lock_guard lock(mutex_);
    local_addresses known;
    for (const auto& b : brokers)
      if (auto it = ports_.find(b.node_id); it != ports_.end()) known[b.node_id] = {host, it->second};
    if (known.size() == brokers.size() || brokers.empty()) co_return known;
  }
  co_return co_await on_strand(strand, ensure_on_strand(std::move(brokers)));
}

task<result_or_failure<inlet_state::local_addresses>> inlet_state::ensure_on_strand(
    std::vector<broker_address> brokers) {
  co_await lock_.lock();
  struct unlock_at_exit {
    strand_lock& l;
    ~unlock_at_exit() { l.unlock(); }
  } unlocker{lock_};
  local_addresses out;
  for (const auto& b : brokers) {
    std::uint32_t port = 0;
    {
      std::lock_guard lock(mutex_);
      if (auto it = ports_.find(b.node_id); it != ports_.end()) {
        out[b.node_id] = {host, it->second};
        continue;
      }
      port = first_port == 0 ? 0 : std::uint32_t{first_port} + next_port_;  // 0: any free port
      if (port > last_port)
        co_return fail(errc::too_large,
                       fmt::format("the cluster names more brokers than the ports {}-{} hold", first_port, last_port));
      ++next_port_;
    }
    auto control = this->control.get();
    if (!control) co_return fail(errc::stopped, "the inlet has stopped");
    const auto bind =
        host.find(':') == std::string::npos ? fmt::format("{}:{}", host, port) : fmt::format("[{}]:{}", host, port);
    const auto broker_at = broker_address_of(at, b.node_id);
    auto made = co_await portal::create_tcp_inlet(*control, broker_at, portal_options(b.node_id, bind));
    if (!made)
      co_return fail(made.error().code,
                     fmt::format("cannot listen for broker {} on {}: {}", b.node_id, bind, made.error().message()));
    const auto bound = split_host_port(made.value().bound());
    if (bound) port = static_cast<std::uint32_t>(std::stoul(bound.value().second));
    std::lock_guard lock(mutex_);
    const auto broker = printable(as_bytes(fmt::format("{}:{}", b.host, b.port)));
    brokers_[b.node_id] = broker_port{b.node_id, broker, made.value().bound()};
    ports_[b.node_id] = static_cast<std::int32_t>(port);
    out[b.node_id] = {host, static_cast<std::int32_t>(port)};
    log.info("kafka inlet '{}': broker {} ({}) is at {} for clients", at, b.node_id, broker, made.value().bound());
  }
  co_return out;
}

std::vector<broker_port> inlet_state::brokers() const {
  std::lock_guard lock(mutex_);
  std::vector<broker_port> out;
  for (const auto& [id, b] : brokers_) out.push_back(b);
  return out;
}

// ---- the registry -------------------------------------------------------------------------

namespace {

const void* node_key(const context& ctx) {
  auto executor = io_executor(ctx);
  return &boost::asio::query(executor, boost::asio::execution::context);
}

using registry_key = std::tuple<const void*, bool, nodus::address>;

struct registry {
  std::mutex mutex;
  std::map<registry_key, std::weak_ptr<void>> states;
  static registry& instance() {
    static registry r;
    return r;
  }
};

}  // namespace

void register_state(const context& ctx, const nodus::address& at, std::shared_ptr<void> state, bool inlet) {
  auto& r = registry::instance();
  std::lock_guard lock(r.mutex);
  r.states[{node_key(ctx), inlet, at}] = state;
}

std::shared_ptr<void> find_state(const context& ctx, const nodus::address& at, bool inlet) {
  auto& r = registry::instance();
  std::lock_guard lock(r.mutex);
  auto it = r.states.find({node_key(ctx), inlet, at});
  return it == r.states.end() ? nullptr : it->second.lock();
}

void unregister_state(const context& ctx, const nodus::address& at, bool inlet) {
  auto& r = registry::instance();
  std::lock_guard lock(r.mutex);
  r.states.erase({node_key(ctx), inlet, at});
}

}  // namespace nodus::kafka_portal::detail
