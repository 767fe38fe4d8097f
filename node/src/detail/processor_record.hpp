#pragma once
// A running processor: its mailbox (for ctx.receive and ctx.sleep) and its loop.

#include <memory>

#include "detail/mailbox.hpp"
#include "nodus/node/worker.hpp"

namespace nodus::detail {

class processor_record final : public mailbox {
public:
  processor_record(node_impl& node, address at, std::size_t capacity, incoming_access_control access,
                   std::shared_ptr<processor> p);

  /// Runs `initialize`, then starts the loop. On failure the processor is unregistered.
  task<result<>> start();

private:
  task<> run_shutdown() override;
  task<> loop(std::shared_ptr<processor_record> keep_alive);
  /// One turn; false when the loop must end.
  task<bool> turn(context& ctx);
  context make_context();

  std::shared_ptr<processor> processor_;
};

}  // namespace nodus::detail
