#pragma once
/// Workers: addressed actors that handle one message at a time.

#include <typeinfo>

#include "nodus/core/message_codec.hpp"
#include "nodus/core/result.hpp"
#include "nodus/core/routed.hpp"
#include "nodus/node/task.hpp"

namespace nodus {

class context;

namespace detail {
/// A task that only returns `e`.
inline task<result<>> failed(std::error_code e) { co_return e; }
}  // namespace detail

/// What the runtime calls on every worker. Users derive from `worker<Msg>` or `raw_worker`.
class worker_base {
public:
  virtual ~worker_base() = default;

  /// Runs once before the first message. An error (or exception) stops the worker: it never
  /// handles a message and `shutdown` is not called.
  virtual task<result<>> initialize(context&) { co_return ok(); }
  /// Handles one message as it arrived. The runtime never runs two of these at once per worker.
  virtual task<result<>> handle_local_message(context& ctx, local_message message) = 0;
  /// Handles a delivery-error notice (`message.kind == message_kind::delivery_error`, see
  /// nodus/core/delivery_error.hpp): something this worker sent, or passed on, could not be
  /// delivered further on. A notice is unauthenticated: any node on the return route could have
  /// made it. By default it is logged (debug level) and dropped; a worker that forwards
  /// messages passes it on the same way, so it reaches whoever waits for the reply.
  virtual task<result<>> handle_delivery_error(context& ctx, local_message notice);
  /// Runs once when the worker stops, after the message in hand is finished.
  virtual task<> shutdown(context&) { co_return; }
};

/// A worker whose messages are decoded as `Msg` (through `message_codec<Msg>`).
/// A message that does not decode is logged and dropped; the worker keeps serving.
template <class Msg>
class worker : public worker_base {
public:
  /// The decoded message type.
  using message_type = Msg;

  /// Handles one decoded message. An error or exception is logged with the worker's address.
  virtual task<result<>> handle_message(context& ctx, routed<Msg> message) = 0;

private:
  // Not a coroutine itself: it hands back handle_message's own task, so a message costs one
  // coroutine frame fewer. (The caller co_awaits the result at once, in the same expression.)
  task<result<>> handle_local_message(context& ctx, local_message message) final {
    if (message.kind != message_kind::message) return handle_delivery_error(ctx, std::move(message));
    auto body = message_codec<Msg>::decode(message.payload);
    if (!body) return detail::failed(body.error());
    return handle_message(ctx, routed<Msg>(std::move(body).value(), std::move(message)));
  }
};

/// A worker that sees messages undecoded, for forwarding without looking inside.
class raw_worker : public worker_base {
public:
  /// Handles one message as it arrived.
  virtual task<result<>> handle_message(context& ctx, local_message message) = 0;

private:
  task<result<>> handle_local_message(context& ctx, local_message message) final {
    if (message.kind != message_kind::message) return handle_delivery_error(ctx, std::move(message));
    return handle_message(ctx, std::move(message));
  }
};

/// A worker that runs a loop instead of waiting for messages: `process` is called again and again
/// until it returns false, fails, or the processor is stopped. Use `ctx.sleep` for periodic jobs
/// and `ctx.receive` for messages sent to the processor's address.
class processor {
public:
  virtual ~processor() = default;

  /// Runs once before the loop; an error stops the processor before it starts.
  virtual task<result<>> initialize(context&) { co_return ok(); }
  /// One turn of the loop; return false to stop. An error is logged and ends the loop.
  virtual task<result<bool>> process(context& ctx) = 0;
  /// Runs once after the loop ends.
  virtual task<> shutdown(context&) { co_return; }
};

}  // namespace nodus
