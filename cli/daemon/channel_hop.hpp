#pragma once
// A hop into a secure channel that this node keeps open: what the node's own workers send to it
// (`route{hop, "worker"}`) goes into a channel to the listener at the end of `to_listener`, made
// on first use and again whenever it has closed, or when the last message through it got no
// answer (the far node restarted: a channel whose far end is gone does not know it). For the
// node's requests that each get one answer, one at a time: a member's credential refreshes (to
// its authority) and a relay client's registrations and pings (to a members-only hub).

#include <optional>
#include <string>

#include "node_daemon.hpp"

namespace nodus::cli::daemon {

class channel_hop final : public raw_worker {
public:
  /// `what` names the far end in logs (`the authority`, `the hub`).
  channel_hop(std::shared_ptr<node_state> s, route to_listener, secure_channel::options o, std::string what)
      : state_(std::move(s)), to_listener_(std::move(to_listener)), options_(std::move(o)), what_(std::move(what)) {}

  task<result<>> handle_message(context& ctx, local_message message) override;

private:
  task<result_or_failure<secure_channel::channel>> open_channel(context& ctx);

  std::shared_ptr<node_state> state_;
  route to_listener_;
  secure_channel::options options_;
  std::string what_;
  std::optional<secure_channel::channel> channel_;
  std::uint64_t delivered_before_ = 0;  // what the channel had delivered when the last message left
};

}  // namespace nodus::cli::daemon
