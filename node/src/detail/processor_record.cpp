#include "detail/processor_record.hpp"

#include <spdlog/spdlog.h>

#include "detail/context_access.hpp"
#include "detail/node_impl.hpp"

namespace nodus::detail {

processor_record::processor_record(node_impl& node, address at, std::size_t capacity, incoming_access_control access,
                                   std::shared_ptr<processor> p)
    : mailbox(node, {std::move(at)}, capacity, std::move(access), worker_info::kind::processor),
      processor_(std::move(p)) {
  draining_ = true;  // the loop counts as running from the start: stop waits for it
}

context processor_record::make_context() { return context_access::make(node().shared(), shared_from_this(), false); }

task<result<>> processor_record::start() {
  auto ctx = make_context();
  result<> initialized = ok();
  try {
    initialized = co_await processor_->initialize(ctx);
  } catch (const std::exception& e) {
    node().log().error("processor '{}' threw from initialize: {}", addresses().front(), e.what());
    initialized = errc::worker_failed;
  }
  if (!initialized) {
    abandon("processor", initialized.error());
    co_return errc::worker_failed;
  }
  node().spawn(loop(std::static_pointer_cast<processor_record>(shared_from_this())));
  co_return ok();
}

task<> processor_record::loop([[maybe_unused]] std::shared_ptr<processor_record> keep_alive) {
  auto ctx = make_context();
  while (!closed() && co_await turn(ctx)) {}
  node().unregister(*this);
  close();
  if (loop_ended()) co_await run_shutdown();
  mark_finished();
}

task<bool> processor_record::turn(context& ctx) {
  try {
    auto again = co_await processor_->process(ctx);
    if (again) co_return again.value();
    if (!closed())
      node().log().warn("processor '{}' stopped on error: {}", addresses().front(), again.error().message());
  } catch (const std::exception& e) {
    node().log().error("processor '{}' threw from process: {}", addresses().front(), e.what());
  }
  co_return false;
}

task<> processor_record::run_shutdown() {
  auto ctx = make_context();
  try {
    co_await processor_->shutdown(ctx);
  } catch (const std::exception& e) {
    node().log().error("processor '{}' threw from shutdown: {}", addresses().front(), e.what());
  }
}

}  // namespace nodus::detail
