#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/secure_channel/channel_hop.hpp"

namespace nodus::secure_channel {

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

task<result_or_failure<channel>> channel_hop::open_channel(context& ctx) {
  if (const auto& first = to_listener_.next(); connect_ && first.type() == address::tcp_type) {
    auto connected = co_await connect_(ctx, first.value());
    if (!connected) co_return fail(connected.error(), "cannot connect to " + first.value());
  }
  auto o = options_;
  co_return co_await create_secure_channel(ctx, to_listener_, std::move(o));
}

}  // namespace nodus::secure_channel
