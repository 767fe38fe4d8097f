#include "detail/node_impl.hpp"

#include <cstdlib>
#include <future>
#include <set>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "detail/context_access.hpp"
#include "detail/processor_record.hpp"
#include "detail/worker_record.hpp"
#include "nodus/core/delivery_error.hpp"

namespace nodus::detail {
namespace {

thread_local const node_impl* current_node = nullptr;

task<> run_with_context(std::shared_ptr<node_impl> node, std::shared_ptr<mailbox> box,
                        std::function<task<>(context&)> f) {
  context ctx = context_access::make(std::move(node), std::move(box), true);
  co_await f(ctx);
}

std::shared_ptr<spdlog::logger> default_logger(const std::string& name) {
  static const auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_level(spdlog::level::info);
  if (const char* level = std::getenv("NODUS_LOG")) {
    const auto parsed = spdlog::level::from_str(level);
    // from_str answers "off" for anything it does not know; only believe it when asked for off.
    if (parsed != spdlog::level::off || std::string_view(level) == "off")
      logger->set_level(parsed);
    else
      logger->warn("NODUS_LOG='{}' is not a level (trace, debug, info, warn, error, off); using info", level);
  }
  return logger;
}

}  // namespace

node_impl::node_impl(node_options options)
    : options_(std::move(options)), log_(options_.logger ? options_.logger : default_logger(options_.name)) {
  if (options_.threads == 0) options_.threads = std::max(1u, std::thread::hardware_concurrency());
  if (options_.mailbox_capacity == 0) options_.mailbox_capacity = 1;
}

node_impl::~node_impl() { stop(); }

void node_impl::start_threads() {
  io_.emplace(static_cast<int>(options_.threads));
  work_.emplace(io_->get_executor());
  for (unsigned i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] {
      current_node = this;
      for (;;) {
        try {
          io_->run();
          return;
        } catch (const std::exception& e) {
          log_->error("node thread caught an exception and keeps running: {}", e.what());
        }
      }
    });
  }
}

void node_impl::log_escaped_exception(spdlog::logger& log, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log.error("a node task ended with an exception: {}", ex.what());
  } catch (...) {
    log.error("a node task ended with a non-standard exception");
  }
}

bool node_impl::on_node_thread() const noexcept { return current_node == this; }

// ---- router ------------------------------------------------------------------------------

result<> node_impl::register_mailbox(const std::shared_ptr<mailbox>& box) {
  std::unique_lock lock(table_mutex_);
  for (const auto& a : box->addresses())
    if (table_.contains(a)) return errc::already_exists;
  for (const auto& a : box->addresses()) table_.emplace(a, box);
  return ok();
}

void node_impl::unregister(const mailbox& box) {
  std::unique_lock lock(table_mutex_);
  for (const auto& a : box.addresses()) {
    auto it = table_.find(a);
    if (it != table_.end() && it->second.get() == &box) table_.erase(it);
  }
}

std::shared_ptr<mailbox> node_impl::resolve(const address& a) const {
  std::shared_lock lock(table_mutex_);
  const auto* box = resolve_locked(a);
  return box ? *box : nullptr;
}

const std::shared_ptr<mailbox>* node_impl::resolve_locked(const address& a) const {
  if (auto it = table_.find(a); it != table_.end()) return &it->second;
  if (a.is_local()) return nullptr;
  auto transport = transports_.find(a.type());
  if (transport == transports_.end()) return nullptr;
  auto it = table_.find(transport->second);
  return it == table_.end() ? nullptr : &it->second;
}

void node_impl::register_transport(address::transport_type type, address handler) {
  std::unique_lock lock(table_mutex_);
  transports_[type] = std::move(handler);
}

task<result<>> node_impl::route_message(local_message m, const mailbox* sender) {
  if (m.onward_route.empty()) {
    log_->warn("dropped a message from '{}' with an empty onward route", m.return_route);
    co_return errc::empty_route;
  }
  std::shared_ptr<mailbox> full;  // set when the mailbox is full and the sender must wait
  bool bypass_capacity = false;
  {
    // While the table is read-locked nothing can be unregistered, so the table's reference keeps
    // the mailbox alive: the fast path queues without touching its reference count, and without
    // another coroutine frame. Only a full mailbox is held on to, and waited for, after the lock.
    std::shared_lock lock(table_mutex_);
    const auto* box = resolve_locked(m.onward_route.next());
    if (!box) {
      lock.unlock();
      log_->warn("no worker at address '{}' (message from '{}')", m.onward_route.next(), m.return_route);
      constexpr std::size_t max_quoted = 64;
      report_undeliverable(
          m, errc::unknown_address,
          fmt::format("no worker at '{}'", printable_cut(m.onward_route.next().to_string(), max_quoted)));
      co_return errc::unknown_address;
    }
    bypass_capacity = box->get() == sender;
    if (!m.origin && (*box)->produces()) note_reply_path(m.return_route, (*box)->produces());
    if (auto done = (*box)->try_deliver(m, bypass_capacity)) {
      if (!*done && should_report(m, done->error())) {
        auto reason = refusal_reason(**box, m, done->error());
        lock.unlock();
        report_undeliverable(m, done->error(), std::move(reason));
      }
      co_return *done;
    }
    full = *box;
  }
  co_return co_await full->wait_and_deliver(std::move(m), bypass_capacity);
}

std::string node_impl::refusal_reason(const mailbox& box, const local_message& m, std::error_code code) const {
  constexpr std::size_t max_quoted = 64;
  const auto to = printable_cut(m.onward_route.next().to_string(), max_quoted);
  if (code == errc::too_large) return fmt::format("'{}' refused the message: too large", to);
  if (m.origin && !may_reach(box, *m.origin))
    return fmt::format("'{}' refused the message: not reachable from where it came in (flow control)", to);
  return fmt::format("'{}' refused the message (access control)", to);
}

void node_impl::report_undeliverable(const local_message& m, std::error_code code, std::string reason) {
  if (!should_report(m, code)) return;
  auto notice = delivery_error_notice(m, delivery_error{code, std::move(reason)});
  const auto to = notice.onward_route.next();
  std::optional<result<>> done;
  bool found = false;
  {
    std::shared_lock lock(table_mutex_);
    const auto* box = resolve_locked(to);
    found = box != nullptr;
    // Never waits for room: a peer that does not read its notices must not stall this node.
    if (found) done = (*box)->try_deliver(notice, /*bypass_capacity=*/false);
  }
  if (!done)
    log_->debug("delivery error notice to '{}' dropped: {}", to, found ? "its mailbox is full" : "nobody is there");
  else if (!*done)
    log_->debug("delivery error notice to '{}' refused: {}", to, done->error().message());
}

// ---- flow control ------------------------------------------------------------------------

void node_impl::note_reply_path(const route& back, const std::shared_ptr<const flow_origin>& flow) const {
  // The sender, and the local hops it went through on its way here (a hop that pushed itself
  // on the return route passes the replies on). A bounded walk: this runs for every message
  // sent through a connection or a channel.
  constexpr std::size_t max_hops_noted = 4;
  std::size_t noted = 0;
  for (const auto& hop : back) {
    if (!hop.is_local() || noted++ == max_hops_noted) return;
    auto it = table_.find(hop);
    if (it == table_.end()) return;
    auto& box = *it->second;
    if (box.last_reply_flow_is(flow.get())) continue;  // the common case: the same sender again
    if (!may_reach(box, *flow)) box.accept_replies_from(flow);
  }
}

bool node_impl::exposed_locked(const std::string& flow, const mailbox& box) const {
  auto it = exposed_.find(flow);
  if (it == exposed_.end()) return false;
  for (const auto& a : box.addresses())
    if (it->second.contains(a)) return true;
  return false;
}

bool node_impl::may_reach(const mailbox& box, const flow_origin& origin) const {
  switch (box.reachability()) {
    case reach::any_origin: return true;
    case reach::this_node_only: return false;
    case reach::exposed_flows: break;
  }
  if (box.replies_from(origin.flow) || (!origin.parent.empty() && box.replies_from(origin.parent))) return true;
  std::shared_lock lock(flows_mutex_);
  return exposed_locked(origin.flow, box) || (!origin.parent.empty() && exposed_locked(origin.parent, box));
}

void node_impl::log_unexposed(const mailbox& box, const address& to, const flow_origin& origin) {
  // Whoever is refused could send a flood of refusals: the log says enough to see what is going
  // on, at a bounded rate, and counts the rest.
  constexpr std::size_t max_refusal_lines = 20;
  std::size_t skipped = 0;
  {
    std::lock_guard lock(refusal_log_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - refusal_window_ >= std::chrono::seconds(1)) {
      skipped = std::exchange(refusals_unlogged_, 0);
      refusal_window_ = now;
      refusals_in_window_ = 0;
    }
    if (++refusals_in_window_ > max_refusal_lines) {
      ++refusals_unlogged_;
      return;
    }
  }
  if (skipped > 0) log_->warn("flow control: {} more refused message(s) were not logged", skipped);
  const char* why = box.reachability() == reach::this_node_only ? "it accepts messages from this node only"
                                                                : "it is not exposed to that origin";
  log_->warn("flow control: '{}' refused a message from {}: {}", to, origin.description, why);
}

void node_impl::expose(std::string_view flow, address at) {
  std::unique_lock lock(flows_mutex_);
  exposed_[std::string(flow)].insert(std::move(at));
}

void node_impl::unexpose_flow(std::string_view flow) {
  std::unique_lock lock(flows_mutex_);
  exposed_.erase(std::string(flow));
}

std::vector<std::string> node_impl::exposures(const address& at) const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(flows_mutex_);
    for (const auto& [flow, addresses] : exposed_)
      if (addresses.contains(at)) out.push_back(flow);
  }
  if (auto box = resolve(at); box && at.is_local())
    for (auto& flow : box->reply_flows()) out.push_back(std::move(flow));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::shared_ptr<mailbox>> node_impl::snapshot() const {
  std::shared_lock lock(table_mutex_);
  std::set<std::shared_ptr<mailbox>> unique;
  for (const auto& [a, box] : table_) unique.insert(box);
  return {unique.begin(), unique.end()};
}

std::vector<worker_info> node_impl::list() const {
  std::vector<worker_info> out;
  for (const auto& box : snapshot()) out.push_back({box->addresses(), box->kind(), box->size()});
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.addresses < y.addresses; });
  return out;
}

// ---- workers -----------------------------------------------------------------------------

std::size_t node_impl::capacity_or_default(std::size_t requested) const {
  return requested ? requested : options_.mailbox_capacity;
}

task<result<>> node_impl::start_worker(std::vector<address> addresses, std::shared_ptr<worker_base> w,
                                       worker_options o) {
  if (stopping()) co_return errc::stopped;
  if (addresses.empty() || !w) co_return errc::invalid_address;
  auto record = std::make_shared<worker_record>(*this, std::move(addresses), capacity_or_default(o.mailbox_capacity),
                                                std::move(o.access), std::move(w));
  record->set_flow_policy(o.reach, std::move(o.produces));
  if (auto registered = register_mailbox(record); !registered) {
    log_->error("cannot start a worker at '{}': address already in use", record->addresses().front());
    co_return registered.error();
  }
  co_return co_await record->start();
}

task<result<>> node_impl::start_processor(address at, std::shared_ptr<processor> p, worker_options o) {
  if (stopping()) co_return errc::stopped;
  if (!p) co_return errc::invalid_address;
  auto record = std::make_shared<processor_record>(*this, std::move(at), capacity_or_default(o.mailbox_capacity),
                                                   std::move(o.access), std::move(p));
  record->set_flow_policy(o.reach, std::move(o.produces));
  if (auto registered = register_mailbox(record); !registered) {
    log_->error("cannot start a processor at '{}': address already in use", record->addresses().front());
    co_return registered.error();
  }
  co_return co_await record->start();
}

task<result<>> node_impl::stop_worker(address at, const mailbox* caller) {
  std::shared_ptr<mailbox> box;
  {
    std::shared_lock lock(table_mutex_);
    if (auto it = table_.find(at); it != table_.end()) box = it->second;
  }
  if (!box) {
    log_->warn("cannot stop '{}': no worker at that address", at);
    co_return errc::unknown_address;
  }
  unregister(*box);
  {
    std::lock_guard lock(stopping_mutex_);
    stopping_boxes_.insert(box);
  }
  co_await box->stop(/*wait=*/box.get() != caller);  // a worker stopping itself cannot wait for itself
  {
    std::lock_guard lock(stopping_mutex_);
    stopping_boxes_.erase(box);
  }
  co_return ok();
}

std::shared_ptr<mailbox> node_impl::new_context_mailbox(std::string_view prefix) {
  for (;;) {
    auto box = std::make_shared<mailbox>(*this, std::vector{address::random_local(prefix)}, options_.mailbox_capacity,
                                         incoming_access_control::allow_all(), worker_info::kind::context);
    if (stopping()) box->close();
    if (register_mailbox(box)) return box;
  }
}

// ---- blocking entry points and lifecycle -------------------------------------------------

result<> node_impl::run_blocking(std::function<task<>(context&)> f) {
  if (on_node_thread()) return errc::would_deadlock;
  auto call = std::make_shared<blocked_call>();
  auto finished = call->done.get_future();
  {
    std::shared_lock lock(io_mutex_);
    if (stopping() || !io_) return errc::stopped;
    {
      std::lock_guard blocked_lock(blocked_mutex_);
      blocked_.insert(call);
    }
    boost::asio::co_spawn(*io_, run_with_context(shared(), new_context_mailbox("main."), std::move(f)),
                          [call](std::exception_ptr e) {
                            if (call->settled.exchange(true)) return;
                            if (e)
                              call->done.set_exception(e);
                            else
                              call->done.set_value();
                          });
  }
  try {
    finished.get();  // an exception thrown by f itself propagates to the caller
  } catch (const std::future_error&) {
    return errc::stopped;
  }
  std::lock_guard blocked_lock(blocked_mutex_);
  blocked_.erase(call);
  return ok();
}

void node_impl::release_blocked_calls() {
  std::lock_guard lock(blocked_mutex_);
  for (const auto& call : blocked_)
    if (!call->settled.exchange(true))
      call->done.set_exception(std::make_exception_ptr(std::future_error(std::future_errc::broken_promise)));
  blocked_.clear();
}

void node_impl::request_stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stop_requested_ = true;
  }
  stop_requested_cv_.notify_all();
  run_stop_callbacks();
}

void node_impl::on_stop_request(std::function<void()> f) {
  {
    std::lock_guard lock(stop_mutex_);
    if (!stop_requested_) {
      on_stop_request_.push_back(std::move(f));
      return;
    }
  }
  f();
}

void node_impl::run_stop_callbacks() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(stop_mutex_);
    callbacks.swap(on_stop_request_);
  }
  for (auto& f : callbacks) f();
}

void node_impl::wait_for_stop_request() {
  std::unique_lock lock(stop_mutex_);
  stop_requested_cv_.wait(lock, [this] { return stop_requested_; });
}

task<> node_impl::stop_all_workers(std::shared_ptr<std::promise<void>> done) {
  auto boxes = snapshot();
  // Contexts first, so handlers blocked in receive or send_and_receive return at once.
  for (auto& box : boxes)
    if (box->kind() == worker_info::kind::context) box->close();
  for (auto& box : boxes) co_await box->stop(/*wait=*/false);
  for (auto& box : boxes) co_await box->stop(/*wait=*/true);
  done->set_value();
}

void node_impl::stop() {
  if (on_node_thread()) {  // a node thread cannot join itself; whoever runs the node will stop it
    request_stop();
    return;
  }
  {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = stop_requested_ = true;
  }
  stop_requested_cv_.notify_all();
  run_stop_callbacks();
  stopping_ = true;
  if (!io_) return;

  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  spawn(stop_all_workers(done));
  if (finished.wait_for(options_.shutdown_timeout) == std::future_status::timeout)
    log_->warn("stop: some workers were still busy after {} ms and were abandoned", options_.shutdown_timeout.count());

  work_.reset();
  io_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // A worker the stop did not reach (started while it began) may still have its drain loop
  // parked in its mailbox, each keeping the other alive; closing hands the loop to the
  // io_context, which destroys it below.
  for (auto& box : snapshot()) box->close();
  {
    // Whoever still waits in stop_worker for a shutdown the stopped io_context will never finish
    // is woken into that io_context, and destroyed with it below.
    decltype(stopping_boxes_) stopping;
    {
      std::lock_guard lock(stopping_mutex_);
      stopping.swap(stopping_boxes_);
    }
    for (const auto& box : stopping) box->release_stop_waiters();
  }
  {
    // Workers may own sockets and timers bound to the io_context (transports do): let them go
    // while it still exists, not when the node itself is destroyed. They are destroyed outside
    // the lock: a worker that owns a detached context unregisters it from the table as it goes.
    decltype(table_) released;
    {
      std::unique_lock lock(table_mutex_);
      released.swap(table_);
    }
    released.clear();
  }
  {
    std::unique_lock lock(io_mutex_);
    io_.reset();  // destroys what it can of abandoned coroutines
  }
  release_blocked_calls();  // callers still blocked in run_blocking see errc::stopped
}

}  // namespace nodus::detail
