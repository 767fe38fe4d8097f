// The sender: the mailbox is the ordered buffer; one push in flight, retried until confirmed,
// carrying all that waited in the mailbox when it left (a push_batch).
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
  if (pending_.empty()) {
    // Idle: parked on the mailbox until a message arrives or the sender is stopped.
    auto next = co_await ctx.receive_message(std::chrono::hours(1));
    if (!next) {
      // A delivery error: something that came out of the receiver stream could not be delivered
      // here (its return route leads through this sender). Notices are not pushed onto streams.
      if (reportable(next.error())) co_return true;
      co_return next.error() == errc::timeout;
    }
    take(ctx, std::move(next).value());
    // What is waiting already goes in the same push_batch; the mailbox, which holds the rest,
    // fills again while it travels.
    const auto most = std::min(sender_batch_messages, state_->options.buffer_capacity);
    while (batches_ && !pending_.empty() && pending_.size() < most && pending_bytes_ < sender_batch_bytes) {
      auto more = co_await ctx.receive_message(duration::zero());
      if (!more) break;  // empty (or a notice, as above: not pushed)
      take(ctx, std::move(more).value());
    }
    if (pending_.empty()) co_return true;
    request_id_ = next_id_++;
  }
  if (co_await push_once(ctx)) {
    backoff_.reset();
    co_return true;
  }
  if (auto slept = co_await ctx.sleep(backoff_.next()); !slept) co_return false;
  co_return true;
}

void stream_sender::take(context& ctx, local_message message) {
  (void)message.onward_route.step();  // the sender itself
  if (message.onward_route.empty()) {
    ctx.log().warn("stream client '{}': a message from '{}' has no route beyond the sender '{}'; dropped",
                   state_->options.client_id, message.return_route, ctx.address());
    state_->update([](stream_status& s) { ++s.rejected; });
    return;
  }
  state_->update([](stream_status& s) { ++s.pushed; });
  if (ctx.log().should_log(spdlog::level::trace))
    ctx.log().trace("stream client '{}': pushing {} bytes for '{}' onto '{}'", state_->options.client_id,
                    message.payload.size(), message.onward_route, state_->sender_stream);
  pending_bytes_ += message.payload.size();
  // Local metadata stays behind, as on any hop that leaves the node.
  pending_.push_back(
      transport_message{std::move(message.onward_route), std::move(message.return_route), std::move(message.payload)});
}

bytes stream_sender::encode_pending() {
  in_flight_ = batches_ ? pending_.size() : 1;
  if (in_flight_ == 1) return encode_push(request_id_, state_->sender_stream, pending_.front());
  return encode_push_batch(request_id_, state_->sender_stream, pending_);
}

void stream_sender::pushed_out() {
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
  pending_bytes_ = 0;
  for (const auto& m : pending_) pending_bytes_ += m.payload.size();
  if (!pending_.empty()) request_id_ = next_id_++;  // the next one alone (the hub takes no batches)
}

task<bool> stream_sender::push_once(context& ctx) {
  const auto& o = state_->options;
  if (recreate_) {
    auto created = co_await create_stream(ctx, *replies_, state_->stream_service, state_->sender_stream, o.parties,
                                          next_id_++, o.reply_timeout, sender_wait_slice);
    if (created && !created.value().error) recreate_ = false;  // otherwise the push below fails too
  }
  auto attempt = encode_pending();  // pending_ keeps the messages until the push is confirmed
  auto reply = co_await exchange<stream_reply>(ctx, *replies_, state_->stream_service, request_id_, std::move(attempt),
                                               o.reply_timeout, sender_wait_slice);
  const auto what = fmt::format("pushing onto '{}' at {}", state_->sender_stream, state_->stream_service);
  if (!reply) {
    if (auto alive = co_await ctx.sleep(duration::zero()); !alive) co_return false;  // stopping: say nothing
    if (reply.error() == errc::too_large) {
      if (in_flight_ > 1) {  // the batch is too large for the route: one at a time from now on
        batches_ = false;
        co_return false;
      }
      reject(ctx, "too large for the route to the hub");
      co_return true;
    }
    state_->failed(ctx, &stream_status::sender, what, reply.error().message());
    co_return false;
  }
  const auto& error = reply.value().error;
  const bool batch = in_flight_ > 1;
  switch (error.code) {
    case stream_errc::none:
      state_->update([at = reply.value().index, n = in_flight_](stream_status& s) {
        s.confirmed += n;
        s.confirmed_index = std::max<std::int64_t>(at, -1);  // the hub's number: -1 means "not said"
      });
      pushed_out();
      state_->succeeded(ctx, &stream_status::sender, what);
      co_return true;
    case stream_errc::bad_request:
    case stream_errc::too_large:
      if (batch) {
        // An older hub (no push_batch), or a batch over its limits: one message per push from now
        // on, each refused or taken on its own.
        ctx.log().info("stream client '{}': the hub at {} takes one message per push ({}); pushing one at a time",
                       o.client_id, state_->stream_service, describe(error));
        batches_ = false;
        co_return false;
      }
      reject(ctx, describe(error));
      co_return true;
    case stream_errc::forbidden: reject(ctx, describe(error)); co_return true;
    case stream_errc::unknown_stream: recreate_ = true; break;
    default: break;
  }
  state_->failed(ctx, &stream_status::sender, what, "the hub says " + describe(error));
  co_return false;
}

void stream_sender::reject(context& ctx, const std::string& why) {
  ctx.log().error("stream client '{}': {} message(s) for '{}' refused for good ({}); dropped",
                  state_->options.client_id, in_flight_, state_->sender_stream, why);
  state_->update([n = in_flight_](stream_status& s) { s.rejected += n; });
  pushed_out();
}

}  // namespace nodus::stream::detail
