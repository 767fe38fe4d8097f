#pragma once
// A bounded, closable queue of messages behind one or more addresses. Senders that find it full
// wait (backpressure); receivers wait for a message with a deadline. A worker drains it with one
// long-lived loop that parks on the mailbox when it is empty (`next_step`, `park`); detached
// contexts and processors read it with `receive`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "detail/message_queue.hpp"
#include "detail/spin_mutex.hpp"
#include "detail/wakeup.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/local_message.hpp"
#include "nodus/node/context.hpp"
#include "nodus/node/task.hpp"

namespace nodus::detail {

class node_impl;

class mailbox : public std::enable_shared_from_this<mailbox> {
public:
  mailbox(node_impl& node, std::vector<address> addresses, std::size_t capacity, incoming_access_control access,
          worker_info::kind kind);
  virtual ~mailbox() = default;

  const std::vector<address>& addresses() const noexcept { return addresses_; }
  worker_info::kind kind() const noexcept { return kind_; }
  node_impl& node() const noexcept { return node_; }

  /// Queues `m`, waiting while the mailbox is full unless `bypass_capacity` (a worker writing to
  /// itself must not wait on itself). Checks access control first.
  task<result<>> deliver(local_message m, bool bypass_capacity);
  /// The fast path of `deliver`, without a coroutine: checks access control and queues `m` when
  /// there is room. Empty (and `m` untouched) when the mailbox is full: then call `wait_and_deliver`.
  std::optional<result<>> try_deliver(local_message& m, bool bypass_capacity);
  /// The slow path of `deliver` once access control has passed: waits for room, then queues `m`.
  task<result<>> wait_and_deliver(local_message m, bool bypass_capacity);
  /// The next message, waiting up to `timeout`. A delivery-error notice is returned as its
  /// failure (code and reason); one that does not decode is dropped and the wait goes on.
  task<result_or_failure<local_message>> receive(duration timeout);
  /// Waits until the mailbox closes or `d` passes; `errc::stopped` if it closed.
  task<result<>> sleep(duration d);
  /// Refuses further messages, drops queued ones and wakes every waiter. Returns how many
  /// messages were dropped.
  std::size_t close();
  bool closed() const;
  /// Messages waiting in the queue.
  std::size_t size() const;

  /// Stops a worker or processor: closes the mailbox and runs `shutdown` once the message in
  /// hand is finished. With `wait`, returns after `shutdown` has run. A plain mailbox just closes.
  task<> stop(bool wait);
  /// Wakes whoever waits in `stop` without the shutdown having finished: for a node that has
  /// stopped its io_context, so those waiters are destroyed with it instead of kept by this
  /// mailbox (which they keep alive in turn).
  void release_stop_waiters();

  // Flow control (nodus/node/flow_control.hpp).
  /// Set once, before the mailbox is registered.
  void set_flow_policy(nodus::reach r, std::shared_ptr<const flow_origin> produces) {
    reach_ = r;
    produces_ = std::move(produces);
  }
  nodus::reach reachability() const noexcept { return reach_; }
  /// The flow this worker carries messages into, or null.
  const std::shared_ptr<const flow_origin>& produces() const noexcept { return produces_; }
  /// True when messages from `flow` reach this worker because it sent into that flow (replies).
  bool replies_from(std::string_view flow) const;
  /// Makes messages from `flow` reach this worker (it has sent into the flow). Keeps the
  /// `max_reply_flows` most recent, so a worker that talks to many peers does not grow.
  void accept_replies_from(const std::shared_ptr<const flow_origin>& flow);
  /// The flows `accept_replies_from` has recorded, oldest first.
  std::vector<std::string> reply_flows() const;
  /// The last flow recorded, for a lock-free check on the hot path (sending through a channel).
  bool last_reply_flow_is(const flow_origin* flow) const noexcept {
    return last_reply_flow_.load(std::memory_order_acquire) == flow;
  }

protected:
  using clock = std::chrono::steady_clock;

  /// Called (outside the lock) when a message arrives in the mailbox of a worker whose drain loop
  /// has not started yet (or has ended): starts one.
  virtual void schedule() {}
  /// Runs the user's `shutdown`; called exactly once, after the last handler has returned.
  virtual task<> run_shutdown() { co_return; }
  /// What a drain loop does next.
  enum class drain_step { handle, park, shut_down, exit };
  /// `handle`: the oldest message was moved into `out`. `park`: the queue is empty, call `park`.
  /// On a closed mailbox the loop ends: `shut_down` when a stop is pending and the caller is the
  /// one to run `shutdown`, `exit` otherwise.
  drain_step next_step(local_message& out);
  /// Parks the drain loop (`resume` is its suspended handler) until a message arrives or the
  /// mailbox closes, or resumes it at once if either happened since `next_step`. While parked
  /// the worker is idle: the next delivery resumes it.
  void park(wakeup resume);
  /// After `initialize`: true when the drain loop must start now (messages queued meanwhile, or
  /// a stop); otherwise the worker is idle and the first delivery starts the loop.
  bool begin_serving();
  /// Closes the mailbox and records the stop. True when the caller must run `shutdown` now
  /// (nothing is running); otherwise whatever is running will, when it ends.
  bool request_stop();
  /// Ends the running loop of a processor; true when the caller must run `shutdown`.
  bool loop_ended();
  /// Counts messages a stopping drain took from the queue but will not handle.
  void count_dropped(std::size_t n);
  /// After a failed `initialize`: unregisters, closes and marks finished without `shutdown`.
  void abandon(std::string_view what, const std::error_code& why);
  /// Marks `shutdown` as done (or skipped) and wakes whoever waits in `stop`.
  void mark_finished();

  /// A waiter list; each waiter re-checks its condition when woken.
  struct waiters {
    std::vector<std::pair<std::uint64_t, wakeup>> list;
    void notify_all();
    wakeup take(std::uint64_t id);
  };
  /// Suspends until `ready()` (evaluated under the lock) or the deadline; false on timeout.
  task<bool> wait_until(waiters& on, std::function<bool()> ready, std::optional<clock::time_point> deadline);

  mutable spin_mutex mutex_;
  // A drain loop (or its resumption), a processor loop or initialize runs; guarded by mutex_.
  // False while a worker is idle: its drain is parked (or not started yet).
  bool draining_ = false;
  // Messages the drain loop handled since it last parked or yielded; only the loop touches it.
  // (Here rather than in the loop's coroutine frame, which a parked worker keeps: the field
  // fits in padding.)
  std::uint32_t handled_since_pause_ = 0;

private:
  node_impl& node_;
  const std::vector<address> addresses_;
  const std::size_t capacity_;
  const incoming_access_control access_;
  const worker_info::kind kind_;

  std::size_t close_locked();
  /// Queues `m` if there is room (access control already passed); empty when full.
  std::optional<result<>> try_push(local_message& m, bool bypass_capacity);

  nodus::reach reach_ = nodus::reach::exposed_flows;
  std::shared_ptr<const flow_origin> produces_;
  std::vector<std::shared_ptr<const flow_origin>> reply_flows_;  // guarded by mutex_
  std::atomic<const flow_origin*> last_reply_flow_{nullptr};     // kept alive by reply_flows_

  message_queue queue_;
  std::atomic<std::size_t> queued_{0};  // queue_.size(), written under mutex_, read without it
  std::atomic<bool> closed_{false};     // written under mutex_; read without it by the drain loop
  bool stop_requested_ = false;
  bool shutdown_started_ = false;
  bool finished_ = false;
  std::size_t dropped_ = 0;  // messages refused by the stop, logged once when finished
  waiters finished_waiters_;
  waiters space_waiters_;    // senders waiting for room
  waiters message_waiters_;  // receivers waiting for a message (or the close)
  wakeup parked_drain_;      // the drain loop of an idle worker, resumed by a delivery or the close
  std::uint64_t next_waiter_id_ = 0;
};

}  // namespace nodus::detail
