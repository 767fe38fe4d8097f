#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include <spdlog/spdlog.h>

#include "nodus/relay/relay.hpp"

namespace nodus::relay {

relay_client::relay_client(relay_client_options options) : options_(std::move(options)) {}

relay_status relay_client::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void relay_client::set_status(context& ctx, relay_status::state now, std::string relay, std::string error) {
  relay_status::state before;
  {
    std::lock_guard lock(mutex_);
    before = status_.now;
    status_.now = now;
    if (!relay.empty()) status_.relay = relay;
    status_.last_error = error;
    if (now == relay_status::state::registered) ++status_.registrations;
  }
  if (now == before && now == relay_status::state::registered) return;  // a ping: nothing to say
  switch (now) {
    case relay_status::state::registered:
      ctx.log().info("relay client: registered as '{}' via {}", relay, options_.service);
      break;
    case relay_status::state::refused:
      ctx.log().error("relay client: the hub refused the registration: {}", error);
      break;
    default:
      if (now != before) ctx.log().warn("relay client: not registered ({}); retrying", error);
      break;
  }
}

void relay_client::expose_to(context& ctx, const std::shared_ptr<const flow_origin>& origin) {
  if (!origin || origin->flow == exposed_flow_) return;  // from this node itself, or unchanged
  if (!exposed_flow_.empty()) ctx.unexpose_flow(exposed_flow_);  // the connection was replaced
  exposed_flow_ = origin->flow;
  for (const auto& worker : options_.expose) ctx.expose(exposed_flow_, worker);
  if (!options_.expose.empty()) ctx.log().info("relay client: exposes {} worker(s) through {}", options_.expose.size(), origin->description);
}

task<result<bool>> relay_client::process(context& ctx) {
  relay_request request;  // named: g++ 12 mishandles a braced temporary inside co_await
  request.name = options_.name;
  auto answer = co_await ctx.send_and_receive<relay_reply>(options_.service, request, options_.reply_timeout);
  duration pause = options_.ping_interval;
  if (answer && answer.value().body().error.empty()) {
    failures_ = 0;
    const auto& relay = answer.value().body().relay;
    // Keep the name the hub picked, so the relay's address survives re-registrations.
    if (options_.name.empty() && relay.starts_with(relay_prefix)) options_.name = relay.substr(relay_prefix.size());
    expose_to(ctx, answer.value().message().origin);
    set_status(ctx, relay_status::state::registered, relay, {});
  } else {
    const bool refused = answer.has_value();
    // The hub's words are escaped and cut short before they reach the log.
    const auto error = refused ? printable(as_bytes(std::string_view(answer.value().body().error).substr(0, 300)))
                               : answer.error().message();
    set_status(ctx, refused ? relay_status::state::refused : relay_status::state::retrying, {}, error);
    failures_ = std::min(failures_ + 1, 16u);
    pause = std::min<duration>(options_.retry_backoff * (1u << std::min(failures_ - 1, 10u)), options_.max_retry_backoff);
  }
  if (auto slept = co_await ctx.sleep(pause); !slept) co_return false;  // stopping
  co_return true;
}

}  // namespace nodus::relay
