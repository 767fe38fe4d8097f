#include "detail/worker_record.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include "detail/node_impl.hpp"

namespace nodus::detail {

// Messages taken from the queue per lock; amortises the lock and the wake-ups of senders.
inline constexpr std::size_t drain_batch = 32;

worker_record::worker_record(node_impl& node, std::vector<address> addresses, std::size_t capacity,
                             incoming_access_control access, std::shared_ptr<worker_base> worker)
    : mailbox(node, std::move(addresses), capacity, std::move(access), worker_info::kind::worker),
      worker_(std::move(worker)) {
  draining_ = true;  // messages that arrive during initialize wait for it
}

context worker_record::make_context() { return context(node().shared(), shared_from_this(), false); }

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
  schedule();
  co_return ok();
}

void worker_record::schedule() {
  node().spawn(drain(std::static_pointer_cast<worker_record>(shared_from_this())));
}

task<> worker_record::drain([[maybe_unused]] std::shared_ptr<worker_record> keep_alive) {
  auto ctx = make_context();
  std::vector<local_message> batch;
  batch.reserve(drain_batch);
  for (;;) {
    switch (take_batch(batch, drain_batch)) {
      case drain_step::handle_batch:
        for (std::size_t i = 0; i < batch.size(); ++i) {
          if (closed()) {  // stopping: the message in hand was finished; drop the rest
            count_dropped(batch.size() - i);
            break;
          }
          co_await handle(ctx, std::move(batch[i]));
        }
        batch.clear();
        continue;
      case drain_step::go_idle: co_return;
      case drain_step::shut_down:
        co_await run_shutdown();
        mark_finished();
        co_return;
    }
  }
}

task<> worker_record::handle(context& ctx, local_message m) {
  try {
    auto handled = co_await worker_->handle_local_message(ctx, std::move(m));
    if (!handled)
      node().log().warn("worker '{}' failed to handle a message: {}", addresses().front(), handled.error().message());
  } catch (const std::exception& e) {
    node().log().error("worker '{}' threw from handle_message: {}", addresses().front(), e.what());
  } catch (...) {
    node().log().error("worker '{}' threw a non-standard exception from handle_message", addresses().front());
  }
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
