#pragma once
/// A hop into a secure channel that a node keeps open: what the node's own workers send to it
/// (`route{hop, "worker"}`) goes into a channel to the listener at the end of `to_listener`, made
/// on first use and again whenever it has closed, or when the last message through it got no
/// answer (the far node restarted: a channel whose far end is gone does not know it). For
/// requests that each get one answer, one at a time: a member's credential refreshes (to its
/// authority) and a relay client's registrations and pings (to a members-only hub). Not for a
/// stream client, whose pulls wait for answers while pushes go out.
///
///   secure_channel::channel_hop hop(route{tcp("hub:4000"), "authority_listener"}, o, "the authority", connect);
///   co_await ctx.start_worker("project_authority", std::move(hop));
///   co_await authority::refresh(ctx, route{"project_authority", "authority"}, timeout);

#include <functional>
#include <optional>
#include <string>

#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::secure_channel {

class channel_hop final : public raw_worker {
public:
  /// Opens a TCP connection to `host:port` (the transport's connect), made before each channel
  /// when `to_listener` starts with a TCP hop; may be empty.
  using connect_fn = std::function<task<result<>>(context&, std::string)>;

  /// `what` names the far end in logs (`the authority`, `the hub`).
  channel_hop(route to_listener, options o, std::string what, connect_fn connect = {})
      : to_listener_(std::move(to_listener)),
        options_(std::move(o)),
        what_(std::move(what)),
        connect_(std::move(connect)) {}

  task<result<>> handle_message(context& ctx, local_message message) override;

private:
  task<result_or_failure<channel>> open_channel(context& ctx);

  route to_listener_;
  options options_;
  std::string what_;
  connect_fn connect_;
  std::optional<channel> channel_;
  std::uint64_t delivered_before_ = 0;  // what the channel had delivered when the last message left
};

}  // namespace nodus::secure_channel
