#pragma once
// The node's internals: io_context and threads, the address table (router), lifecycle.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "detail/mailbox.hpp"
#include "nodus/node/node.hpp"

namespace nodus::detail {

class node_impl : public std::enable_shared_from_this<node_impl> {
public:
  explicit node_impl(node_options options);
  ~node_impl();

  std::shared_ptr<node_impl> shared() { return shared_from_this(); }
  spdlog::logger& log() const noexcept { return *log_; }
  const node_options& options() const noexcept { return options_; }
  void start_threads();

  // Router: a concurrent address table read in the sender's thread.
  /// Registers every address of `box`; `errc::already_exists` (and nothing registered) if one is taken.
  result<> register_mailbox(const std::shared_ptr<mailbox>& box);
  /// Removes the addresses of `box` that still point to it.
  void unregister(const mailbox& box);
  /// The mailbox that serves `a`: a local worker, or the transport registered for its type.
  std::shared_ptr<mailbox> resolve(const address& a) const;
  void register_transport(address::transport_type type, address handler);
  /// Routes `m` to the mailbox of its first onward hop. `sender` (may be null) is where it
  /// comes from: a worker sending to itself never waits for room in its own mailbox.
  task<result<>> route_message(local_message m, const mailbox* sender);
  std::vector<worker_info> list() const;
  /// Sends the delivery-error notice about `m` back along its return route when
  /// `should_report(m, code)` (nodus/core/delivery_error.hpp). Never waits: a notice that finds
  /// the next mailbox full, or nobody there, is dropped (logged at debug level).
  void report_undeliverable(const local_message& m, std::error_code code, std::string reason);

  // Flow control (nodus/node/flow_control.hpp).
  /// True when a message that came in by `origin` may reach `box`.
  bool may_reach(const mailbox& box, const flow_origin& origin) const;
  /// Logs that `box` refused a message for `to` (one of its addresses) from `origin` (at most
  /// `max_refusal_lines` a second).
  void log_unexposed(const mailbox& box, const address& to, const flow_origin& origin);
  void expose(std::string_view flow, address at);
  void unexpose_flow(std::string_view flow);
  std::vector<std::string> exposures(const address& at) const;

  // Workers.
  task<result<>> start_worker(std::vector<address> addresses, std::shared_ptr<worker_base> w, worker_options o);
  task<result<>> start_processor(address at, std::shared_ptr<processor> p, worker_options o);
  task<result<>> stop_worker(address at, const mailbox* caller);
  std::shared_ptr<mailbox> new_context_mailbox(std::string_view prefix);

  // Execution.
  /// Starts `t` on the node's threads; an exception that escapes it is logged. (Coroutines
  /// spawned here are plain functions, not capturing lambdas: g++ 12 miscompiles some of those.)
  void spawn(task<> t) {
    boost::asio::co_spawn(*io_, std::move(t), [log = log_](std::exception_ptr e) {
      if (e) log_escaped_exception(*log, e);
    });
  }
  boost::asio::any_io_executor executor() { return io_->get_executor(); }
  bool on_node_thread() const noexcept;
  result<> run_blocking(std::function<task<>(context&)> f);

  // Lifecycle.
  void request_stop();
  void wait_for_stop_request();
  /// Runs `f` once something asks the node to stop (at once if something has): `request_stop`,
  /// a signal (`stop_on_signals`) or `stop`. `f` runs on the asking thread and must not block.
  void on_stop_request(std::function<void()> f);
  /// True the first time only: `stop_on_signals` installs its handler once per node.
  bool claim_signals() noexcept { return !signals_claimed_.exchange(true); }
  void stop();
  bool stopping() const noexcept { return stopping_.load(); }

private:
  static void log_escaped_exception(spdlog::logger& log, std::exception_ptr e);
  /// `resolve` for a caller that holds table_mutex_: the table's own entry, or null.
  const std::shared_ptr<mailbox>* resolve_locked(const address& a) const;
  /// For a message made on this node going to a worker that produces a flow: the local workers
  /// at the front of its return route become reachable from that flow (for the replies).
  void note_reply_path(const route& back, const std::shared_ptr<const flow_origin>& flow) const;
  bool exposed_locked(const std::string& flow, const mailbox& box) const;
  /// Why `box` refused `m` with `code`, in words for a delivery-error notice (table_mutex_ held).
  std::string refusal_reason(const mailbox& box, const local_message& m, std::error_code code) const;
  void release_blocked_calls();
  task<> stop_all_workers(std::shared_ptr<std::promise<void>> done);
  std::vector<std::shared_ptr<mailbox>> snapshot() const;
  std::size_t capacity_or_default(std::size_t requested) const;

  node_options options_;
  std::shared_ptr<spdlog::logger> log_;

  mutable std::shared_mutex table_mutex_;
  std::unordered_map<address, std::shared_ptr<mailbox>> table_;
  std::unordered_map<address::transport_type, address> transports_;

  mutable std::shared_mutex flows_mutex_;                       // taken after table_mutex_ when both are
  std::unordered_map<std::string, std::set<address>> exposed_;  // flow -> addresses exposed to it
  std::mutex refusal_log_mutex_;
  std::chrono::steady_clock::time_point refusal_window_{};
  std::size_t refusals_in_window_ = 0;
  std::size_t refusals_unlogged_ = 0;

  std::shared_mutex io_mutex_;  // user threads spawn under a shared lock; stop resets io_ under a unique one
  std::optional<boost::asio::io_context> io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;

  // Callers blocked in run_blocking. Stopping releases them explicitly: Asio may leak (not
  // destroy) a coroutine abandoned by a stopped io_context, so its completion never runs.
  struct blocked_call {
    std::promise<void> done;
    std::atomic<bool> settled{false};
  };
  std::mutex blocked_mutex_;
  std::set<std::shared_ptr<blocked_call>> blocked_;

  // Mailboxes that stop_worker has unregistered and is waiting for. The node's stop does not see
  // them in the table; if one's shutdown is still running when the io_context stops, its waiters
  // are released with it (mailbox::release_stop_waiters), or they and the mailbox keep each other.
  std::mutex stopping_mutex_;
  std::set<std::shared_ptr<mailbox>> stopping_boxes_;

  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_requested_cv_;
  bool stop_requested_ = false;
  bool stopped_ = false;
  std::atomic<bool> signals_claimed_{false};
  std::vector<std::function<void()>> on_stop_request_;  // under stop_mutex_; run once, by run_stop_callbacks
  void run_stop_callbacks();
};

}  // namespace nodus::detail
