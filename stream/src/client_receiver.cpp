// The receiver: long-polls the receiver stream, delivers in index order, then saves the index.
//
// Each turn of the loop does one thing: read the saved index again (after a failed pull), save
// the index (when delivery has moved past the saved one), or pull. So the index is saved after
// each delivered batch and before the next pull, and a failed save is retried before anything
// new is delivered.
//
// Why read the index again after a failed pull: the index service is the authority. Normally it
// holds exactly the receiver's own index (saved before each pull), so reading it changes
// nothing; but a hub that came back with an empty broker (the embedded one) has forgotten the
// stream, and the receiver must start again from 0 rather than wait at an index that a new
// topic will take long to reach; and an operator who moved the index backwards gets the
// redelivery asked for.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client_workers.hpp"

namespace nodus::stream::detail {

stream_receiver::stream_receiver(std::shared_ptr<client_state> state, std::int64_t index)
    : state_(std::move(state)),
      index_(index),
      saved_(index),
      backoff_(state_->options.retry_backoff, state_->options.max_retry_backoff) {}

task<result<bool>> stream_receiver::process(context& ctx) {
  if (!know_index_) co_return co_await read_index(ctx);
  if (saved_ != index_) co_return co_await save_index(ctx);
  co_return co_await pull(ctx);
}

task<> stream_receiver::shutdown(context&) {
  state_->update([](stream_status& s) { s.receiver = stream_status::state::stopped; });
  co_return;
}

task<bool> stream_receiver::retry_later(context& ctx, std::string_view what, std::string error) {
  if (auto alive = co_await ctx.sleep(duration::zero()); !alive) co_return false;  // stopping: say nothing
  state_->failed(ctx, &stream_status::receiver, what, std::move(error));
  if (auto slept = co_await ctx.sleep(backoff_.next()); !slept) co_return false;
  co_return true;
}

task<bool> stream_receiver::read_index(context& ctx) {
  const auto& o = state_->options;
  const auto what = fmt::format("reading the index of '{}' at {}", state_->receiver_stream, state_->index_service);
  auto created = co_await create_stream(ctx, ctx, state_->stream_service, state_->receiver_stream, o.parties,
                                        next_id_++, o.reply_timeout, o.reply_timeout);
  // (Reasons are named before co_await: g++ 12 mishandles some temporaries inside it.)
  if (auto why = problem(created); !why.empty()) co_return co_await retry_later(ctx, what, std::move(why));

  index_request request;
  request.kind = index_request::kind_t::get;
  request.request_id = next_id_++;
  request.stream = state_->receiver_stream;
  request.client_id = o.client_id;
  auto encoded = message_codec<index_request>::encode(request);
  auto reply = co_await exchange<index_reply>(ctx, ctx, state_->index_service, request.request_id, std::move(encoded),
                                              o.reply_timeout, o.reply_timeout);
  if (auto why = problem(reply); !why.empty()) co_return co_await retry_later(ctx, what, std::move(why));
  const auto before = index_;
  index_ = saved_ = reply.value().index;
  know_index_ = true;
  backoff_.reset();
  state_->update([this](stream_status& s) { s.index = s.saved_index = index_; });
  state_->succeeded(ctx, &stream_status::receiver, what);
  if (index_ != before)
    ctx.log().info("stream client '{}': '{}' continues from the saved index {} (was at {})", o.client_id,
                   state_->receiver_stream, index_, before);
  co_return true;
}

task<bool> stream_receiver::save_index(context& ctx) {
  const auto& o = state_->options;
  index_request request;
  request.kind = index_request::kind_t::save;
  request.request_id = next_id_++;
  request.stream = state_->receiver_stream;
  request.client_id = o.client_id;
  request.index = index_;
  auto encoded = message_codec<index_request>::encode(request);
  auto reply = co_await exchange<index_reply>(ctx, ctx, state_->index_service, request.request_id, std::move(encoded),
                                              o.reply_timeout, o.reply_timeout);
  const auto what = fmt::format("saving the index of '{}' at {}", state_->receiver_stream, state_->index_service);
  if (auto why = problem(reply); !why.empty()) {
    if (reply && reply.value().error.code == stream_errc::unknown_stream) know_index_ = false;
    co_return co_await retry_later(ctx, what, std::move(why));
  }
  saved_ = request.index;
  backoff_.reset();
  state_->update([this](stream_status& s) { s.saved_index = saved_; });
  state_->succeeded(ctx, &stream_status::receiver, what);
  co_return true;
}

task<bool> stream_receiver::pull(context& ctx) {
  const auto& o = state_->options;
  stream_request request;
  request.kind = stream_request::kind_t::pull;
  request.request_id = next_id_++;
  request.stream = state_->receiver_stream;
  request.index = index_;
  request.limit = o.pull_limit;
  request.wait_ms = static_cast<std::uint32_t>(o.poll_wait.count());
  auto encoded = message_codec<stream_request>::encode(request);
  state_->update([](stream_status& s) { ++s.pulls; });
  // Idle, this waits on the mailbox for the hub's answer (about `poll_wait`) and costs nothing.
  const auto timeout = o.poll_wait + o.reply_timeout;
  const auto started = std::chrono::steady_clock::now();
  auto reply = co_await exchange<stream_reply>(ctx, ctx, state_->stream_service, request.request_id, std::move(encoded),
                                               timeout, timeout);
  const auto what = fmt::format("pulling '{}' at {}", state_->receiver_stream, state_->stream_service);
  if (auto why = problem(reply); !why.empty()) {
    know_index_ = false;
    co_return co_await retry_later(ctx, what, std::move(why));
  }
  backoff_.reset();
  state_->succeeded(ctx, &stream_status::receiver, what);
  if (reply.value().messages.empty()) {
    // A hub that does not hold pulls (or `poll_wait` 0) must not make this loop spin.
    const auto since = std::chrono::steady_clock::now() - started;
    if (since < min_pull_interval) {
      const auto rest = std::chrono::duration_cast<duration>(min_pull_interval - since);
      if (auto slept = co_await ctx.sleep(rest); !slept) co_return false;
    }
    co_return true;
  }
  for (auto& message : reply.value().messages) {
    if (message.index < index_) continue;  // already delivered
    const auto next = message.index + 1;
    co_await deliver(ctx, std::move(message));
    index_ = next;
  }
  state_->update([this](stream_status& s) { s.index = index_; });
  co_return true;
}

task<> stream_receiver::deliver(context& ctx, stream_message message) {
  const auto at = message.index;
  auto wire = decode_transport_message(std::move(message.data));
  std::string trouble;
  if (!wire) {
    trouble = fmt::format("does not decode ({})", wire.error().message());
  } else if (wire.value().onward_route.empty()) {
    trouble = "has an empty onward route";
  } else if (wire.value().kind != message_kind::message) {
    // The sender never pushes one (it does not carry notices), so this record was made by
    // someone else: it is not passed on as a notice, nor as an ordinary message.
    trouble = "is a delivery error notice (streams do not carry them)";
  } else {
    local_message local{std::move(wire.value().onward_route),
                        std::move(wire.value().return_route),
                        std::move(wire.value().payload),
                        {}};
    local.return_route.prepend(state_->sender);  // replies go back through the paired sender
    local.origin = state_->origin;               // from a stranger, as far as this node knows
    const address to = local.onward_route.next();
    if (ctx.log().should_log(spdlog::level::trace))
      ctx.log().trace("stream client '{}': delivering message {} of '{}' ({} bytes) to '{}'", state_->options.client_id,
                      at, state_->receiver_stream, local.payload.size(), to);
    auto sent = co_await ctx.forward(std::move(local));
    if (sent) {
      state_->update([](stream_status& s) { ++s.delivered; });
      co_return;
    }
    trouble = fmt::format("could not be delivered to '{}' ({})", to, sent.error().message());
  }
  ctx.log().warn("stream client '{}': message {} of '{}' {}; skipped", state_->options.client_id, at,
                 state_->receiver_stream, trouble);
  state_->update([](stream_status& s) { ++s.undeliverable; });
}

}  // namespace nodus::stream::detail
