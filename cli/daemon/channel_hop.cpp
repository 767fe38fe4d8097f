#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "channel_hop.hpp"

namespace nodus::cli::daemon {

task<result<>> channel_hop::handle_message(context& ctx, local_message message) {
  const bool unanswered = channel_ && channel_->stats().delivered == delivered_before_;
  if (!channel_ || !channel_->open() || unanswered) {
    auto made = co_await open_channel(ctx);
    if (!made) {
      ctx.log().warn("cannot reach {} via {}: {}", what_, to_listener_, made.error().message());
      co_return ok();  // the asker's wait ends in its timeout, saying there was no answer
    }
    if (channel_) ctx.log().info("a new secure channel to {} via {}", what_, to_listener_);
    channel_ = made.value();
  }
  delivered_before_ = channel_->stats().delivered;
  (void)message.onward_route.step();
  message.onward_route.prepend(channel_->address());
  co_return co_await ctx.forward(std::move(message));
}

task<result_or_failure<secure_channel::channel>> channel_hop::open_channel(context& ctx) {
  if (const auto& first = to_listener_.next(); first.type() == tcp_type) {
    auto connected = co_await state_->tcp->connect(first.value());
    if (!connected) co_return connected.error();
  }
  auto o = options_;
  co_return co_await secure_channel::create_secure_channel(ctx, to_listener_, std::move(o));
}

}  // namespace nodus::cli::daemon
