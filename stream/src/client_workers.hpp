#pragma once
// The stream client's two processors and what they share.
//
// The sender reads its own mailbox (the bounded, ordered buffer) one message at a time and
// pushes it until the hub confirms it; replies come to a detached context of its own, because
// its mailbox holds the messages still to push. The receiver's mailbox receives only the hub's
// replies, so it waits there (and wakes at once when stopped).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "nodus/core/transport_message.hpp"
#include "nodus/node/worker.hpp"
#include "nodus/stream/client.hpp"
#include "nodus/stream/protocol.hpp"

namespace nodus::stream::detail {

/// What connect_stream set up, shared by the handle the user keeps and both processors.
struct client_state {
  client_options options;
  route stream_service;  // to_hub + options.stream_service
  route index_service;   // to_hub + options.index_service
  std::string sender_stream;
  std::string receiver_stream;
  address sender;
  address receiver;
  std::shared_ptr<const flow_origin> origin;  // stamped on every message the receiver delivers

  mutable std::mutex mutex;
  stream_status status;  // guarded by mutex

  /// Runs `f` on the status under the lock.
  template <class F>
  void update(F f) {
    std::lock_guard lock(mutex);
    f(status);
  }
  /// Records that one side's request failed with `error` (a retry follows) and logs the change
  /// of state once: the first failure after success warns, later ones do not.
  void failed(context& ctx, stream_status::state stream_status::*side, std::string_view what, std::string error);
  /// Records that one side's request succeeded; logs the recovery if it was retrying.
  void succeeded(context& ctx, stream_status::state stream_status::*side, std::string_view what);
};

/// Exponential back-off: `first`, doubling on each failure up to `max`.
class backoff {
public:
  backoff(duration first, duration max) : first_(first), max_(max) {}
  /// The wait before the next attempt, and one more failure counted.
  duration next() {
    const auto wait = std::min<duration>(first_ * (1u << std::min(failures_, 16u)), max_);
    ++failures_;
    return wait;
  }
  void reset() noexcept { failures_ = 0; }

private:
  duration first_;
  duration max_;
  unsigned failures_ = 0;
};

/// The nodus error code for a hub's error, for failures reported to callers.
std::error_code to_error_code(stream_errc e) noexcept;
/// "kafka_unavailable: <reason>".
std::string describe(const stream_error& e);
/// Why a request failed, the route's error or the hub's, for logs and `last_error`; empty when
/// it succeeded.
template <class Reply>
std::string problem(const result<Reply>& reply) {
  if (!reply) return reply.error().message();
  if (reply.value().error) return "the hub says " + describe(reply.value().error);
  return {};
}
/// True for names the hub accepts: [A-Za-z0-9._-], 1..200 characters.
bool valid_name(std::string_view name) noexcept;
/// `to_hub` followed by `service`.
route service_route(const route& to_hub, const std::string& service);

/// Sends `request` (an encoded request whose id is `id`) along `to` from `via` and waits up to
/// `timeout` for the reply with that request id (stale replies and anything that does not decode
/// as a `Reply` are skipped). The wait is cut into slices of `slice`, after each of which it ends
/// with `errc::stopped` if `ctx`'s processor has been stopped (when `via` is another context,
/// stopping the processor does not wake it).
template <class Reply>
task<result<Reply>> exchange(context& ctx, context& via, route to, std::uint64_t id, bytes request, duration timeout,
                             duration slice) {
  if (auto sent = co_await via.send(std::move(to), std::move(request)); !sent) co_return sent.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<duration>(deadline - std::chrono::steady_clock::now());
    if (left <= duration::zero()) co_return errc::timeout;
    auto reply = co_await via.template receive<Reply>(std::min(left, slice));
    if (reply) {
      if (reply.value().body().request_id == id) co_return std::move(reply).value().body();
      continue;  // a late answer to an earlier attempt
    }
    if (reply.error() == errc::malformed) continue;
    if (reply.error() != errc::timeout) co_return reply.error();
    if (auto alive = co_await ctx.sleep(duration::zero()); !alive) co_return errc::stopped;
  }
}

/// The encoded push of `message` onto `stream`: a `stream_request` whose data is the message's
/// wire form, written straight into the request (the payload is copied once).
bytes encode_push(std::uint64_t request_id, const std::string& stream, const transport_message& message);
/// The encoded push_batch of `messages` onto `stream`, each written straight into its record.
bytes encode_push_batch(std::uint64_t request_id, const std::string& stream,
                        const std::vector<transport_message>& messages);

/// A push_batch carries what waits in the sender's mailbox when it pushes, up to this many
/// messages, and stops taking more once it holds this many bytes of payloads.
inline constexpr std::size_t sender_batch_messages = 256;
inline constexpr std::size_t sender_batch_bytes = 256 * 1024;

/// Empty pulls are at least this far apart, whatever the hub does with `wait_ms`.
inline constexpr duration min_pull_interval = std::chrono::milliseconds(100);

/// How long the sender waits for a reply before checking whether it has been stopped.
inline constexpr duration sender_wait_slice = std::chrono::milliseconds(200);

/// Pushes what reaches its mailbox onto the sender stream, one confirmed push at a time: all
/// that waits in the mailbox goes in one push_batch (one message alone: a push), so the stream
/// moves as many messages per confirmation as have arrived meanwhile.
class stream_sender final : public processor {
public:
  explicit stream_sender(std::shared_ptr<client_state> state);

  task<result<>> initialize(context& ctx) override;
  task<result<bool>> process(context& ctx) override;
  task<> shutdown(context& ctx) override;

private:
  /// Adds `message` to `pending_`, unless it has nowhere to go beyond the sender.
  void take(context& ctx, local_message message);
  /// The encoded request for what `pending_` holds (a push_batch while the hub takes them).
  bytes encode_pending();
  /// One attempt to push `pending_`: true when it has left the buffer (confirmed or refused).
  task<bool> push_once(context& ctx);
  /// Logs and counts messages the hub will never accept; they leave the buffer.
  void reject(context& ctx, const std::string& why);
  /// What `pending_` holds left the buffer.
  void pushed_out();

  std::shared_ptr<client_state> state_;
  std::optional<context> replies_;          // where the hub's answers come
  std::vector<transport_message> pending_;  // the messages being pushed, in order
  std::size_t pending_bytes_ = 0;
  std::uint64_t request_id_ = 0;  // pending_'s, the same for each of its retries
  std::uint64_t next_id_ = 1;
  bool recreate_ = false;      // the hub forgot the stream: create it before the next push
  bool batches_ = true;        // false once the hub has answered a push_batch bad_request (an older hub)
  std::size_t in_flight_ = 0;  // how many of pending_ the request being tried carries
  backoff backoff_;
};

/// Pulls the receiver stream from the saved index, delivers each message, saves the index.
class stream_receiver final : public processor {
public:
  stream_receiver(std::shared_ptr<client_state> state, std::int64_t index);

  task<result<bool>> process(context& ctx) override;
  task<> shutdown(context& ctx) override;

private:
  /// Creates the stream (in case the hub forgot it) and reads the saved index again.
  task<bool> read_index(context& ctx);
  task<bool> save_index(context& ctx);
  task<bool> pull(context& ctx);
  /// Delivers one message locally with the paired sender on its return route.
  task<> deliver(context& ctx, stream_message message);
  /// Counts and logs a failure, then waits the back-off; false when stopped.
  task<bool> retry_later(context& ctx, std::string_view what, std::string error);

  std::shared_ptr<client_state> state_;
  std::int64_t index_;      // the next index to deliver
  std::int64_t saved_;      // the index the service last confirmed
  bool know_index_ = true;  // false after a failed pull: read the saved index again
  std::uint64_t next_id_ = 1;
  backoff backoff_;
};

/// Creates `stream` on the hub (idempotent) for `parties` besides this node, waiting as `exchange` does. Used by
/// connect_stream and after the hub has forgotten a stream.
task<result<stream_reply>> create_stream(context& ctx, context& via, route service, std::string stream,
                                         std::vector<std::string> parties, std::uint64_t request_id, duration timeout,
                                         duration slice);

}  // namespace nodus::stream::detail
