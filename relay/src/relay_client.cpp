#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "nodus/relay/relay.hpp"

namespace nodus::relay {

// What every copy of a relay_client shares: the processor's own state (touched by `process`
// only, one turn at a time) and, under the mutex, the status and the contexts waiting in
// `registered`.
struct relay_client::shared_state {
  explicit shared_state(relay_client_options o) : options(std::move(o)) {}

  relay_client_options options;  // `expose` under the mutex (`relay_client::expose` adds to it)
  std::string exposed_flow;      // the connection's flow the workers are exposed to now; under the mutex
  unsigned failures = 0;

  mutable std::mutex mutex;
  relay_status status;
  bool stopped = false;
  std::vector<address> waiters;  // detached contexts in `registered`, woken by a message

  void set_status(context& ctx, relay_status::state now, std::string relay, std::string error,
                  std::vector<address>& wake);
  void expose_to(context& ctx, const std::shared_ptr<const flow_origin>& origin);

  // `registered`: one look at the status, the failure when the wait ends without it, the wait.
  std::optional<result_or_failure<relay_status>> settled(const address& waiter);
  failure gave_up(const address& waiter, duration timeout, std::error_code why);
  static task<result_or_failure<relay_status>> wait_registered(std::shared_ptr<shared_state> s, context waiter,
                                                               duration timeout);
};

namespace {

using steady = std::chrono::steady_clock;

// Wakes each waiter in `registered` with an empty message (it then reads the status itself).
task<> wake(context& ctx, std::vector<address> waiters) {
  for (auto& waiter : waiters) {
    route to{std::move(waiter)};  // named: g++ 12 mishandles braced temporaries inside co_await
    bytes nothing;
    (void)co_await ctx.send(std::move(to), std::move(nothing));  // a waiter that gave up is gone: fine
  }
}

}  // namespace

relay_client::relay_client(relay_client_options options) : state_(std::make_shared<shared_state>(std::move(options))) {}

relay_client::~relay_client() = default;

relay_status relay_client::status() const {
  std::lock_guard lock(state_->mutex);
  return state_->status;
}

void relay_client::shared_state::set_status(context& ctx, relay_status::state now, std::string relay, std::string error,
                                            std::vector<address>& wake_up) {
  relay_status::state before;
  {
    std::lock_guard lock(mutex);
    before = status.now;  // only `process` changes it, so it stays so until below
  }
  // What this answer means is said before it is published, so whoever sees the new state (a
  // caller of `status()` or `registered()`) finds the log line already written.
  const bool ping = now == before && now == relay_status::state::registered;
  if (!ping) {
    switch (now) {
      case relay_status::state::registered:
        ctx.log().info("relay client: registered as '{}' via {}", relay, options.service);
        break;
      case relay_status::state::refused:
        ctx.log().error("relay client: the hub refused the registration: {}", error);
        break;
      default:
        if (now != before) ctx.log().warn("relay client: not registered ({}); retrying", error);
        break;
    }
  }
  std::lock_guard lock(mutex);
  status.now = now;
  if (!relay.empty()) status.relay = std::move(relay);
  status.last_error = std::move(error);
  if (now == relay_status::state::registered) {
    ++status.registrations;
    wake_up.swap(waiters);
  }
}

void relay_client::shared_state::expose_to(context& ctx, const std::shared_ptr<const flow_origin>& origin) {
  std::lock_guard lock(mutex);
  if (!origin || origin->flow == exposed_flow) return;         // from this node itself, or unchanged
  if (!exposed_flow.empty()) ctx.unexpose_flow(exposed_flow);  // the connection was replaced
  exposed_flow = origin->flow;
  for (const auto& worker : options.expose) ctx.expose(exposed_flow, worker);
  if (!options.expose.empty())
    ctx.log().info("relay client: exposes {} worker(s) through {}", options.expose.size(), origin->description);
}

void relay_client::expose(const context& ctx, address worker) {
  std::lock_guard lock(state_->mutex);
  auto& exposed = state_->options.expose;
  if (std::find(exposed.begin(), exposed.end(), worker) != exposed.end()) return;
  if (!state_->exposed_flow.empty()) ctx.expose(state_->exposed_flow, worker);
  exposed.push_back(std::move(worker));
}

std::vector<address> relay_client::exposed() const {
  std::lock_guard lock(state_->mutex);
  return state_->options.expose;
}

task<result<bool>> relay_client::process(context& ctx) {
  auto& s = *state_;
  relay_request request;  // named: g++ 12 mishandles a braced temporary inside co_await
  request.name = s.options.name;
  auto answer = co_await ctx.send_and_receive<relay_reply>(s.options.service, request, s.options.reply_timeout);
  duration pause = s.options.ping_interval;
  std::vector<address> waiters;
  if (answer && answer.value().body().error.empty()) {
    s.failures = 0;
    const auto& relay = answer.value().body().relay;
    // Keep the name the hub picked, so the relay's address survives re-registrations.
    if (s.options.name.empty() && relay.starts_with(relay_prefix)) s.options.name = relay.substr(relay_prefix.size());
    s.expose_to(ctx, answer.value().message().origin);
    s.set_status(ctx, relay_status::state::registered, relay, {}, waiters);
  } else {
    const bool refused = answer.has_value();
    // The hub's words are escaped and cut short before they reach the log.
    const auto error = refused ? printable(as_bytes(std::string_view(answer.value().body().error).substr(0, 300)))
                               : answer.error().message();
    s.set_status(ctx, refused ? relay_status::state::refused : relay_status::state::retrying, {}, error, waiters);
    s.failures = std::min(s.failures + 1, 16u);
    pause = std::min<duration>(s.options.retry_backoff * (1u << std::min(s.failures - 1, 10u)),
                               s.options.max_retry_backoff);
  }
  if (!waiters.empty()) co_await wake(ctx, std::move(waiters));
  if (auto slept = co_await ctx.sleep(pause); !slept) co_return false;  // stopping
  co_return true;
}

task<> relay_client::shutdown(context& ctx) {
  std::vector<address> waiters;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    waiters.swap(state_->waiters);
  }
  co_await wake(ctx, std::move(waiters));
}

// The answer when the wait is over, else empty (and `at` is among the waiters).
std::optional<result_or_failure<relay_status>> relay_client::shared_state::settled(const address& at) {
  std::lock_guard lock(mutex);
  if (status.now == relay_status::state::registered) return status;
  if (stopped) return fail(errc::stopped, "relay client: stopped before it was registered");
  if (std::find(waiters.begin(), waiters.end(), at) == waiters.end()) waiters.push_back(at);
  return std::nullopt;
}

failure relay_client::shared_state::gave_up(const address& at, duration timeout, std::error_code why) {
  std::lock_guard lock(mutex);
  std::erase(waiters, at);
  if (why != errc::timeout) return failure(why, "relay client: stopped waiting for the registration: " + why.message());
  return failure(errc::timeout,
                 fmt::format("relay client: not registered via {} within {} ms: {}", options.service, timeout.count(),
                             status.last_error.empty() ? "no answer yet" : status.last_error));
}

task<result_or_failure<relay_status>> relay_client::shared_state::wait_registered(std::shared_ptr<shared_state> s,
                                                                                  context waiter, duration timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    if (auto done = s->settled(waiter.address())) co_return std::move(*done);
    const auto left = std::chrono::duration_cast<duration>(deadline - steady::now());
    if (left <= duration::zero()) co_return s->gave_up(waiter.address(), timeout, errc::timeout);
    auto woken = co_await waiter.receive_message(left);
    if (!woken) co_return s->gave_up(waiter.address(), timeout, woken.error());
  }
}

task<result_or_failure<relay_status>> relay_client::registered(context& ctx, duration timeout) const {
  return shared_state::wait_registered(state_, ctx.new_detached("relay.wait."), timeout);
}

}  // namespace nodus::relay
