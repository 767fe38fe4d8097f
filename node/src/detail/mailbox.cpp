#include "detail/mailbox.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/node_impl.hpp"
#include "nodus/core/delivery_error.hpp"

namespace nodus::detail {

// Queue slots an idle worker keeps (a burst's worth is freed when it goes idle).
inline constexpr std::size_t idle_queue_slots = 32;
// Flows a worker keeps receiving replies from: the most recent ones it sent into. A worker that
// serves many peers is exposed to their listener instead, and never needs this list.
inline constexpr std::size_t max_reply_flows = 64;

mailbox::mailbox(node_impl& node, std::vector<address> addresses, std::size_t capacity, incoming_access_control access,
                 worker_info::kind kind)
    : node_(node), addresses_(std::move(addresses)), capacity_(capacity), access_(std::move(access)), kind_(kind) {}

void mailbox::waiters::notify_all() {
  for (auto& [id, w] : list) w.post(true);
  list.clear();
}

wakeup mailbox::waiters::take(std::uint64_t id) {
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->first != id) continue;
    wakeup w = std::move(it->second);
    list.erase(it);
    return w;
  }
  return {};
}

task<bool> mailbox::wait_until(waiters& on, std::function<bool()> ready, std::optional<clock::time_point> deadline) {
  auto executor = co_await boost::asio::this_coro::executor;
  std::optional<boost::asio::steady_timer> timer;
  if (deadline) timer.emplace(executor, *deadline);
  auto self = shared_from_this();

  // A waiter list is shared by several conditions (a push wakes a sleeper too), so each wake-up
  // re-checks `ready` and waits again if it does not hold yet.
  for (;;) {
    const bool notified = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(bool)>(
        [&](auto handler) {
          std::lock_guard lock(mutex_);
          if (ready()) return wakeup(std::move(handler)).post(true);
          const auto id = next_waiter_id_++;
          on.list.emplace_back(id, wakeup(std::move(handler)));
          if (!timer) return;
          // The timer and a notification race for the waiter; whoever takes it resumes it.
          timer->async_wait([self, &on, id](const boost::system::error_code& ec) {
            if (ec) return;
            std::lock_guard timer_lock(self->mutex_);
            if (auto w = on.take(id)) w.post(false);
          });
        },
        boost::asio::use_awaitable);
    if (!notified) co_return false;
    {
      std::lock_guard lock(mutex_);
      if (ready()) break;
    }
    if (timer) timer->cancel();  // a new async_wait is armed on the next turn
  }
  if (timer) timer->cancel();
  co_return true;
}

task<result<>> mailbox::deliver(local_message m, bool bypass_capacity) {
  if (auto done = try_deliver(m, bypass_capacity)) co_return *done;
  co_return co_await wait_and_deliver(std::move(m), bypass_capacity);
}

std::optional<result<>> mailbox::try_deliver(local_message& m, bool bypass_capacity) {
  if (m.origin && !node_.may_reach(*this, *m.origin)) {
    node_.log_unexposed(*this, m.onward_route.next(), *m.origin);
    return result<>(errc::access_denied);
  }
  if (auto reason = access_.check(m); !reason.empty()) {
    node_.log().warn("'{}' denied a message from '{}': {}", addresses_.front(), m.return_route, reason);
    return result<>(access_.refusal());
  }
  return try_push(m, bypass_capacity);
}

std::optional<result<>> mailbox::try_push(local_message& m, bool bypass_capacity) {
  wakeup drain;
  bool start_drain = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return result<>(errc::stopped);
    if (queue_.size() >= capacity_ && !bypass_capacity) return std::nullopt;
    queue_.push(std::move(m));
    queued_.store(queue_.size(), std::memory_order_release);
    if (!message_waiters_.list.empty()) message_waiters_.notify_all();
    if (kind_ == worker_info::kind::worker && !draining_) {
      draining_ = true;
      drain = std::move(parked_drain_);
      start_drain = !drain;
    }
  }
  if (drain)
    drain.post(true);
  else if (start_drain)
    schedule();
  return result<>(ok());
}

task<result<>> mailbox::wait_and_deliver(local_message m, bool bypass_capacity) {
  for (;;) {
    if (auto done = try_push(m, bypass_capacity)) co_return *done;
    // Full: wait for the drain to make room, then try again.
    co_await wait_until(
        space_waiters_, [this] { return closed_ || queue_.size() < capacity_; }, std::nullopt);
  }
}

namespace {

// What a delivery-error notice tells the receiver, or nothing when it does not decode.
std::optional<failure> notice_failure(spdlog::logger& log, const address& at, const local_message& notice) {
  auto e = decode_delivery_error(notice.payload);
  if (!e) {
    log.debug("'{}' dropped a delivery error notice that does not decode: {}", at, e.error().message());
    return std::nullopt;
  }
  log.debug("'{}' received a delivery error: {}", at, e.value().reason);
  return failure(e.value().code, std::move(e.value().reason));
}

}  // namespace

task<result_or_failure<local_message>> mailbox::receive(duration timeout) {
  if (kind_ == worker_info::kind::worker) co_return failure(errc::not_supported);
  const auto deadline = clock::now() + timeout;
  for (;;) {
    std::optional<local_message> notice;
    {
      std::lock_guard lock(mutex_);
      if (!queue_.empty()) {
        local_message m;
        queue_.pop_into(m);
        queued_.store(queue_.size(), std::memory_order_release);
        space_waiters_.notify_all();
        if (m.kind == message_kind::message) co_return m;
        notice.emplace(std::move(m));
      } else if (closed_) {
        co_return failure(errc::stopped);
      }
    }
    if (notice) {
      if (auto why = notice_failure(node_.log(), addresses_.front(), *notice)) co_return std::move(*why);
      continue;
    }
    const bool notified = co_await wait_until(
        message_waiters_, [this] { return closed_ || !queue_.empty(); }, deadline);
    if (!notified) co_return failure(errc::timeout);
  }
}

task<result<>> mailbox::sleep(duration d) {
  const bool closed_early = co_await wait_until(
      message_waiters_, [this] { return closed_.load(); }, clock::now() + d);
  if (closed_early) co_return errc::stopped;
  co_return ok();
}

std::size_t mailbox::close() {
  std::lock_guard lock(mutex_);
  return close_locked();
}

std::size_t mailbox::close_locked() {
  closed_ = true;
  const auto dropped = queue_.size();
  dropped_ += dropped;
  queue_.clear();
  queued_.store(0, std::memory_order_release);
  space_waiters_.notify_all();
  message_waiters_.notify_all();
  if (parked_drain_) {  // the drain of an idle worker wakes up to end (and to run shutdown on a stop)
    draining_ = true;
    parked_drain_.post(true);
  }
  return dropped;
}

bool mailbox::replies_from(std::string_view flow) const {
  std::lock_guard lock(mutex_);
  return std::any_of(reply_flows_.begin(), reply_flows_.end(), [&](const auto& f) { return f->flow == flow; });
}

void mailbox::accept_replies_from(const std::shared_ptr<const flow_origin>& flow) {
  std::lock_guard lock(mutex_);
  for (const auto& f : reply_flows_)
    if (f == flow || f->flow == flow->flow) return;
  if (reply_flows_.size() >= max_reply_flows) reply_flows_.erase(reply_flows_.begin());
  // Held here, so the pointer in last_reply_flow_ (always the newest) stays valid.
  reply_flows_.push_back(flow);
  last_reply_flow_.store(flow.get(), std::memory_order_release);
}

std::vector<std::string> mailbox::reply_flows() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& f : reply_flows_) out.push_back(f->flow);
  return out;
}

std::size_t mailbox::size() const { return queued_.load(std::memory_order_acquire); }

bool mailbox::closed() const { return closed_.load(std::memory_order_acquire); }

mailbox::drain_step mailbox::next_step(local_message& out) {
  // Empty and open, read without the lock: the common case after a handler, and `park` checks
  // again under the lock, so a message that lands meanwhile is not missed.
  if (queued_.load(std::memory_order_acquire) == 0 && !closed_.load(std::memory_order_acquire)) return drain_step::park;
  std::lock_guard lock(mutex_);
  if (closed_) {
    draining_ = false;
    if (!stop_requested_ || shutdown_started_) return drain_step::exit;
    shutdown_started_ = true;
    return drain_step::shut_down;
  }
  if (queue_.empty()) return drain_step::park;
  queue_.pop_into(out);
  queued_.store(queue_.size(), std::memory_order_release);
  if (!space_waiters_.list.empty()) space_waiters_.notify_all();
  return drain_step::handle;
}

void mailbox::park(wakeup resume) {
  std::lock_guard lock(mutex_);
  // Something arrived (or the close came) between next_step and here: go on at once.
  if (closed_ || !queue_.empty()) return resume.post(true);
  queue_.shrink_if_empty(idle_queue_slots);
  draining_ = false;
  parked_drain_ = std::move(resume);
}

bool mailbox::begin_serving() {
  std::lock_guard lock(mutex_);
  if (closed_ || !queue_.empty()) return true;
  draining_ = false;
  return false;
}

bool mailbox::request_stop() {
  std::lock_guard lock(mutex_);
  close_locked();
  stop_requested_ = true;
  if (draining_ || shutdown_started_) return false;
  shutdown_started_ = true;
  return true;
}

bool mailbox::loop_ended() {
  std::lock_guard lock(mutex_);
  draining_ = false;
  if (shutdown_started_) return false;
  shutdown_started_ = true;
  return true;
}

void mailbox::abandon(std::string_view what, const std::error_code& why) {
  node_.log().error("{} '{}' failed to initialize: {}", what, addresses_.front(), why.message());
  node_.unregister(*this);
  close();
  loop_ended();
  mark_finished();
}

void mailbox::count_dropped(std::size_t n) {
  std::lock_guard lock(mutex_);
  dropped_ += n;
}

void mailbox::mark_finished() {
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    dropped = dropped_;
  }
  // Logged outside the lock (a log line may wait on its sink), and before anyone waiting in
  // `stop` is woken, so the line is there when stop returns.
  if (dropped > 0) node_.log().info("'{}' stopped; dropped {} queued message(s)", addresses_.front(), dropped);
  std::lock_guard lock(mutex_);
  finished_ = true;
  finished_waiters_.notify_all();
}

void mailbox::release_stop_waiters() {
  std::lock_guard lock(mutex_);
  finished_waiters_.notify_all();
}

task<> mailbox::stop(bool wait) {
  if (kind_ == worker_info::kind::context) {
    close();
    co_return;
  }
  if (request_stop()) {  // nothing is running: shut down here
    co_await run_shutdown();
    mark_finished();
    co_return;
  }
  if (wait)
    co_await wait_until(
        finished_waiters_, [this] { return finished_; }, std::nullopt);
}

}  // namespace nodus::detail
