#include "detail/worker_record.hpp"

#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/context_access.hpp"
#include "detail/node_impl.hpp"

namespace nodus::detail {

worker_record::worker_record(node_impl& node, std::vector<address> addresses, std::size_t capacity,
                             incoming_access_control access, std::shared_ptr<worker_base> worker)
    : mailbox(node, std::move(addresses), capacity, std::move(access), worker_info::kind::worker),
      worker_(std::move(worker)) {
  draining_ = true;  // messages that arrive during initialize wait for it
}

context worker_record::make_context() { return context_access::make(node().shared(), shared_from_this(), false); }

task<result<>> worker_record::start() {
  auto ctx = make_context();
  result<> initialized = ok();
  try {
    initialized = co_await worker_->initialize(ctx);
  } catch (const std::exception& e) {
    node().log().error("worker '{}' threw from initialize: {}", addresses().front(), e.what());
    initialized = errc::worker_failed;
  }
  if (!initialized) {
    abandon("worker", initialized.error());
    co_return errc::worker_failed;
  }
  if (begin_serving()) schedule();
  co_return ok();
}

void worker_record::schedule() { node().spawn(drain(std::static_pointer_cast<worker_record>(shared_from_this()))); }

// One loop per worker, started by its first message and parked (not ended) whenever the mailbox
// is empty, so a message to an idle worker costs a deferred resumption instead of a co_spawn.
// It ends when the mailbox closes; until then the mailbox and the parked loop keep each other
// alive, and every way of stopping a worker (stop_worker, node stop) closes its mailbox.
task<> worker_record::drain([[maybe_unused]] std::shared_ptr<worker_record> keep_alive) {
  auto ctx = make_context();
  local_message m;
  for (;;) {
    switch (next_step(m)) {
      case drain_step::handle:
        ++handled_since_pause_;
        // The handler runs in this frame (no nested coroutine per message for the try block).
        try {
          auto outcome = co_await worker_->handle_local_message(ctx, std::move(m));
          if (!outcome) log_failure(outcome.error());
        } catch (const std::exception& e) {
          log_exception(e.what());
        } catch (...) {
          log_exception(nullptr);
        }
        break;
      case drain_step::park:
        // After a burst, let what this thread has queued run first and look again before
        // parking: that is usually the sender that filled the mailbox, about to fill it again.
        // Coming back costs one resumption, less than parking and being woken, and the worker
        // stays scheduled meanwhile, so its senders need not wake it. (Parking would also free
        // the ring the burst grew, only for the next burst to allocate it again.) After a single
        // message the loop parks at once: that is request-response traffic, where the answer
        // wakes it anyway. (One await for both, so the coroutine machinery is instantiated once.)
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(bool)>(
            [this](auto handler) {
              if (std::exchange(handled_since_pause_, 0) > 1)
                wakeup(std::move(handler)).post(true);
              else
                park(wakeup(std::move(handler)));
            },
            boost::asio::use_awaitable);
        break;
      case drain_step::shut_down:
        co_await run_shutdown();
        mark_finished();
        co_return;
      case drain_step::exit: co_return;
    }
  }
}

void worker_record::log_failure(const std::error_code& e) const {
  node().log().warn("worker '{}' failed to handle a message: {}", addresses().front(), e.message());
}

void worker_record::log_exception(const char* what) const {
  if (what)
    node().log().error("worker '{}' threw from handle_message: {}", addresses().front(), what);
  else
    node().log().error("worker '{}' threw a non-standard exception from handle_message", addresses().front());
}

task<> worker_record::run_shutdown() {
  auto ctx = make_context();
  try {
    co_await worker_->shutdown(ctx);
  } catch (const std::exception& e) {
    node().log().error("worker '{}' threw from shutdown: {}", addresses().front(), e.what());
  }
}

}  // namespace nodus::detail
