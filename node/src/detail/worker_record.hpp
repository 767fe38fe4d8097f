#pragma once
// A running worker: its mailbox, the user's worker object, and the loop that drains one to the other.

#include <memory>

#include "detail/mailbox.hpp"
#include "nodus/node/worker.hpp"

namespace nodus::detail {

class worker_record final : public mailbox {
public:
  worker_record(node_impl& node, std::vector<address> addresses, std::size_t capacity, incoming_access_control access,
                std::shared_ptr<worker_base> worker);

  /// Runs `initialize`, then starts handling messages (queued ones included). On failure the
  /// worker is unregistered and never handles a message.
  task<result<>> start();

private:
  void schedule() override;
  task<> run_shutdown() override;
  task<> drain(std::shared_ptr<worker_record> keep_alive);
  void log_failure(const std::error_code& e) const;
  void log_exception(const char* what) const;
  context make_context();

  std::shared_ptr<worker_base> worker_;
};

}  // namespace nodus::detail
