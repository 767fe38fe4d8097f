// The sender: the mailbox is the ordered buffer; one push in flight, retried until confirmed.
//
// Why one push at a time: if a push failed while a later one (already sent) succeeded, the
// stream would hold the later message first, and resending the earlier one could not repair
// the order. Waiting for each confirmation keeps the stream in the sender's order; a lost
// confirmation only makes the message appear twice in a row.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client_workers.hpp"
#include "nodus/core/delivery_error.hpp"

namespace nodus::stream::detail {

stream_sender::stream_sender(std::shared_ptr<client_state> state)
    : state_(std::move(state)), backoff_(state_->options.retry_backoff, state_->options.max_retry_backoff) {}

task<result<>> stream_sender::initialize(context& ctx) {
  replies_.emplace(ctx.new_detached(ctx.address().value() + ".replies."));
  co_return ok();
}

task<> stream_sender::shutdown(context&) {
  replies_.reset();
  state_->update([](stream_status& s) { s.sender = stream_status::state::stopped; });
  co_return;
}

task<result<bool>> stream_sender::process(context& ctx) {
  if (!pending_) {
    // Idle: parked on the mailbox until a message arrives or the sender is stopped.
    auto next = co_await ctx.receive_message(std::chrono::hours(1));
    if (!next) {
      // A delivery error: something that came out of the receiver stream could not be delivered
      // here (its return route leads through this sender). Notices are not pushed onto streams.
      if (reportable(next.error())) co_return true;
      co_return next.error() == errc::timeout;
    }
    pending_ = take(ctx, std::move(next).value());
    if (!pending_) co_return true;
  }
  if (co_await push_once(ctx)) {
    backoff_.reset();
    co_return true;
  }
  if (auto slept = co_await ctx.sleep(backoff_.next()); !slept) co_return false;
  co_return true;
}

std::optional<bytes> stream_sender::take(context& ctx, local_message message) {
  (void)message.onward_route.step();  // the sender itself
  if (message.onward_route.empty()) {
    ctx.log().warn("stream client '{}': a message from '{}' has no route beyond the sender '{}'; dropped",
                   state_->options.client_id, message.return_route, ctx.address());
    state_->update([](stream_status& s) { ++s.rejected; });
    return std::nullopt;
  }
  request_id_ = next_id_++;
  state_->update([](stream_status& s) { ++s.pushed; });
  if (ctx.log().should_log(spdlog::level::trace))
    ctx.log().trace("stream client '{}': pushing {} bytes for '{}' onto '{}'", state_->options.client_id,
                    message.payload.size(), message.onward_route, state_->sender_stream);
  // Local metadata stays behind, as on any hop that leaves the node.
  transport_message wire{std::move(message.onward_route), std::move(message.return_route), std::move(message.payload)};
  return encode_push(request_id_, state_->sender_stream, wire);
}

task<bool> stream_sender::push_once(context& ctx) {
  const auto& o = state_->options;
  if (recreate_) {
    auto created = co_await create_stream(ctx, *replies_, state_->stream_service, state_->sender_stream, o.parties,
                                          next_id_++, o.reply_timeout, sender_wait_slice);
    if (created && !created.value().error) recreate_ = false;  // otherwise the push below fails too
  }
  bytes attempt = *pending_;  // the buffer keeps its copy until the push is confirmed
  auto reply = co_await exchange<stream_reply>(ctx, *replies_, state_->stream_service, request_id_, std::move(attempt),
                                               o.reply_timeout, sender_wait_slice);
  const auto what = fmt::format("pushing onto '{}' at {}", state_->sender_stream, state_->stream_service);
  if (!reply) {
    if (auto alive = co_await ctx.sleep(duration::zero()); !alive) co_return false;  // stopping: say nothing
    if (reply.error() == errc::too_large) {
      reject(ctx, "too large for the route to the hub");
      co_return true;
    }
    state_->failed(ctx, &stream_status::sender, what, reply.error().message());
    co_return false;
  }
  const auto& error = reply.value().error;
  switch (error.code) {
    case stream_errc::none:
      pending_.reset();
      state_->update([at = reply.value().index](stream_status& s) {
        ++s.confirmed;
        s.confirmed_index = std::max<std::int64_t>(at, -1);  // the hub's number: -1 means "not said"
      });
      state_->succeeded(ctx, &stream_status::sender, what);
      co_return true;
    case stream_errc::bad_request:
    case stream_errc::too_large:
    case stream_errc::forbidden: reject(ctx, describe(error)); co_return true;
    case stream_errc::unknown_stream: recreate_ = true; break;
    default: break;
  }
  state_->failed(ctx, &stream_status::sender, what, "the hub says " + describe(error));
  co_return false;
}

void stream_sender::reject(context& ctx, const std::string& why) {
  ctx.log().error("stream client '{}': a message for '{}' was refused for good ({}); dropped",
                  state_->options.client_id, state_->sender_stream, why);
  pending_.reset();
  state_->update([](stream_status& s) { ++s.rejected; });
}

}  // namespace nodus::stream::detail
