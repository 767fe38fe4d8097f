#pragma once
/// The context: a worker's (or a program's) handle on the node.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <spdlog/logger.h>

#include "nodus/core/failure.hpp"
#include "nodus/core/local_message.hpp"
#include "nodus/core/message_codec.hpp"
#include "nodus/core/routed.hpp"
#include "nodus/node/access_control.hpp"
#include "nodus/node/flow_control.hpp"
#include "nodus/node/task.hpp"
#include "nodus/node/worker.hpp"

namespace nodus {

namespace detail {
class node_impl;
class mailbox;
struct context_access;
}  // namespace detail

/// Options for one worker or processor.
struct worker_options {
  /// Which messages the mailbox accepts.
  incoming_access_control access = incoming_access_control::allow_all();
  /// Mailbox capacity; 0 means the node's default. A full mailbox makes senders wait.
  std::size_t mailbox_capacity = 0;
  /// Which messages from beyond this node reach the worker (see nodus/node/flow_control.hpp).
  nodus::reach reach = nodus::reach::exposed_flows;
  /// The flow this worker carries messages into, if any (a connection, a channel, a stream),
  /// as stamped on the messages that come back from it: a local worker that sends through this
  /// one becomes reachable from that flow, so the replies reach it.
  std::shared_ptr<const flow_origin> produces;
};

/// What `list_workers` reports about each registered mailbox.
struct worker_info {
  enum class kind { worker, processor, context };
  std::vector<address> addresses;  ///< the primary address first, then aliases
  kind what;
  std::size_t queued = 0;  ///< messages waiting in the mailbox (not counting those being handled)
};

/// A worker's, processor's or program's handle on its node: its address, sending, receiving,
/// starting and stopping workers, and the node's logger. Workers get one in every call; a
/// program gets one from `run_main` (nodus/node/main.hpp), `node::create_context` or
/// `node::block_on`. Only the runtime makes contexts over a mailbox (the constructor is private).
class context {
public:
  context(context&&) noexcept;
  context& operator=(context&&) noexcept;
  ~context();

  /// The primary address; messages sent from this context come back here.
  const nodus::address& address() const noexcept;
  /// Every address of this mailbox, primary first.
  std::span<const nodus::address> addresses() const noexcept;
  /// The node's logger.
  spdlog::logger& log() const noexcept;

  /// Sends `body` along `to`, with this context's address as the return route. Waits while the
  /// destination's mailbox is full; fails with `errc::unknown_address` if nothing serves `to`.
  template <class T>
  task<result<>> send(route to, const T& body) {
    return send_payload(address(), std::move(to), message_codec<T>::encode(body));
  }
  /// Sends bytes as the payload without copying them (`bytes` bodies pass through unencoded).
  task<result<>> send(route to, bytes&& payload) { return send_payload(address(), std::move(to), std::move(payload)); }
  /// Like `send`, with `from` (one of the node's addresses) as the return route.
  template <class T>
  task<result<>> send_from(nodus::address from, route to, const T& body) {
    return send_payload(std::move(from), std::move(to), message_codec<T>::encode(body));
  }
  /// Sends a message as it is (routes, payload and local metadata), for forwarding workers.
  task<result<>> forward(local_message message);
  /// Sends `body` along `to` after `delay` without waiting for it; delivery errors are logged.
  template <class T>
  void send_after(duration delay, route to, const T& body) {
    send_payload_after(delay, std::move(to), message_codec<T>::encode(body));
  }

  /// The next message sent to this context, undecoded. Detached contexts and processors only:
  /// a worker receives through `handle_message` (`errc::not_supported` here). When what
  /// arrives is a delivery-error notice from another node (a message this context sent could
  /// not be delivered there, see nodus/core/delivery_error.hpp), this fails at once with its
  /// code, `errc::unknown_address`, `errc::access_denied` or `errc::too_large`, instead of
  /// waiting for the timeout. `receive_message_or_failure` gives the notice's reason too.
  task<result<local_message>> receive_message(duration timeout = default_timeout);
  /// Like `receive_message`, with a delivery error's reason as the other node wrote it
  /// (escaped), e.g. `failure{errc::unknown_address, "no worker at 'nosuchworker'"}`. A timeout
  /// or a stop is a failure with only a code.
  task<result_or_failure<local_message>> receive_message_or_failure(duration timeout = default_timeout);
  /// The next message sent to this context, decoded as T (`errc::malformed` if it is not a T).
  /// Delivery errors as for `receive_message`.
  template <class T>
  task<result<routed<T>>> receive(duration timeout = default_timeout) {
    auto message = co_await receive_message(timeout);
    if (!message) co_return message.error();
    auto body = message_codec<T>::decode(message.value().payload);
    if (!body) co_return body.error();
    co_return routed<T>(std::move(body).value(), std::move(message).value());
  }
  /// Like `receive<T>`, with a delivery error's reason (see `receive_message_or_failure`).
  template <class T>
  task<result_or_failure<routed<T>>> receive_or_failure(duration timeout = default_timeout) {
    auto message = co_await receive_message_or_failure(timeout);
    if (!message) co_return message.error();
    auto body = message_codec<T>::decode(message.value().payload);
    if (!body) co_return failure(body.error());
    co_return routed<T>(std::move(body).value(), std::move(message).value());
  }
  /// Sends `body` from a fresh temporary address and waits for the first reply to it. A
  /// delivery error from another node on the way ends the wait at once (see `receive_message`).
  template <class T, class U>
  task<result<routed<T>>> send_and_receive(route to, U body, duration timeout = default_timeout) {
    context temporary = new_detached("reply.");
    auto sent = co_await temporary.send(std::move(to), body);
    if (!sent) co_return sent.error();
    co_return co_await temporary.template receive<T>(timeout);
  }
  /// Like `send_and_receive`, with a delivery error's reason, e.g. for telling a user why.
  template <class T, class U>
  task<result_or_failure<routed<T>>> send_and_receive_or_failure(route to, U body, duration timeout = default_timeout) {
    context temporary = new_detached("reply.");
    auto sent = co_await temporary.send(std::move(to), body);
    if (!sent) co_return failure(sent.error());
    co_return co_await temporary.template receive_or_failure<T>(timeout);
  }

  /// Starts `w` at `addresses` (primary first, aliases after) and waits for its `initialize`.
  template <class W>
  task<result<>> start_worker(std::vector<nodus::address> addresses, W&& w, worker_options options = {}) {
    using type = std::remove_cvref_t<W>;
    static_assert(std::is_base_of_v<worker_base, type>, "a worker derives from nodus::worker<Msg>");
    return start_worker_ptr(std::move(addresses), std::make_shared<type>(std::forward<W>(w)), std::move(options));
  }
  /// Starts `w` at one address and waits for its `initialize`.
  template <class W>
  task<result<>> start_worker(nodus::address at, W&& w, worker_options options = {}) {
    return start_worker(std::vector<nodus::address>{std::move(at)}, std::forward<W>(w), std::move(options));
  }
  /// Starts a worker the caller keeps a pointer to (to inspect its state later).
  task<result<>> start_worker_ptr(std::vector<nodus::address> addresses, std::shared_ptr<worker_base> w,
                                  worker_options options = {});
  /// Starts a processor at `at` and waits for its `initialize`.
  template <class P>
  task<result<>> start_processor(nodus::address at, P&& p, worker_options options = {}) {
    using type = std::remove_cvref_t<P>;
    return start_processor_ptr(std::move(at), std::make_shared<type>(std::forward<P>(p)), std::move(options));
  }
  /// Starts a processor the caller keeps a pointer to.
  task<result<>> start_processor_ptr(nodus::address at, std::shared_ptr<processor> p, worker_options options = {});
  /// Stops the worker or processor at `at`: it finishes the message in hand, its `shutdown` runs,
  /// and this returns once it has (at once when a worker stops itself).
  task<result<>> stop_worker(nodus::address at);
  /// Every worker, processor and context registered on the node.
  std::vector<worker_info> list_workers() const;

  /// Waits for `d`; `errc::stopped` as soon as this context's worker or the node stops.
  task<result<>> sleep(duration d);
  /// A new context with its own random address (prefixed by `prefix`) for receiving replies.
  context new_detached(std::string_view prefix = "app.") const;

  /// A fresh flow id (`<prefix>` and 32 random hex digits) for a transport, listener or
  /// channel to stamp on the messages it brings in (see nodus/node/flow_control.hpp).
  static std::string new_flow(std::string_view prefix);
  /// Lets messages that came in by `flow` (or by a flow it spawned) reach the worker at `at`,
  /// now and whenever a worker is started there, until `unexpose_flow(flow)`.
  void expose(std::string_view flow, nodus::address at) const;
  /// Ends every explicit exposure to `flow` (its listener has stopped).
  void unexpose_flow(std::string_view flow) const;
  /// Which flows the worker at `at` is exposed to, explicitly or for replies (for logs and tests).
  std::vector<std::string> exposures(const nodus::address& at) const;
  /// Asks the node to stop; `node::run` returns once it has. Does not wait.
  void stop_node() const;

private:
  friend struct detail::context_access;  // the runtime (node/src/detail/context_access.hpp)

  context(std::shared_ptr<detail::node_impl> node, std::shared_ptr<detail::mailbox> box, bool owns_box);

  task<result<>> send_payload(nodus::address from, route to, bytes payload);
  void send_payload_after(duration delay, route to, bytes payload);
  void release() noexcept;

  std::shared_ptr<detail::node_impl> node_;
  std::shared_ptr<detail::mailbox> box_;
  bool owns_box_ = false;  // a detached context closes and unregisters its mailbox when destroyed
};

/// Makes SIGINT and SIGTERM ask the node of `ctx` to stop, so `node::run` returns (and
/// `serve_until_stopped` in nodus/node/main.hpp ends) and the program ends cleanly; the signal
/// is logged. For programs that serve until they are told to stop. Calling it again on the same
/// node does nothing more.
void stop_on_signals(const context& ctx);

}  // namespace nodus
