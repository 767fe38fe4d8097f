#pragma once
// A node with two identities (Alice and Bob), an echoer, and a tap between them that can
// change, hold back or drop the messages it forwards: the untrusted intermediary of the tests.

#include <deque>
#include <functional>
#include <mutex>

#include <doctest/doctest.h>

#include "eventually.hpp"
#include "log_capture.hpp"
#include "nodus/node/node.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/services/echoer.hpp"

namespace nodus::test {

using namespace std::chrono_literals;
namespace sc = nodus::secure_channel;

/// A hop that forwards messages in both directions, after asking `intercept` what to do with
/// each. `intercept(message)` may change the message and returns whether to forward it; held
/// messages can be released later with `release`.
class tap final : public raw_worker {
public:
  enum class action { forward, drop, hold };
  using interceptor = std::function<action(local_message&)>;

  void set(interceptor f) {
    std::lock_guard lock(mutex_);
    intercept_ = std::move(f);
  }
  /// Messages held so far (their routes already stepped past the tap), oldest first.
  std::vector<local_message> take_held() {
    std::lock_guard lock(mutex_);
    std::vector<local_message> out(std::make_move_iterator(held_.begin()), std::make_move_iterator(held_.end()));
    held_.clear();
    return out;
  }
  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }

  task<result<>> handle_message(context& ctx, local_message message) override {
    (void)message.onward_route.step();
    message.return_route.prepend(ctx.address());
    action what = action::forward;
    {
      std::lock_guard lock(mutex_);
      if (intercept_) what = intercept_(message);
      if (what == action::hold) held_.push_back(message);
    }
    if (what != action::forward) co_return ok();
    co_return co_await ctx.forward(std::move(message));
  }

private:
  std::mutex mutex_;
  interceptor intercept_;
  std::deque<local_message> held_;
};

/// The first byte after the version says what a channel frame is (see channel_frame.hpp).
inline int frame_kind(const local_message& m) { return m.payload.size() >= 2 ? m.payload[1] : -1; }
inline constexpr int encrypted_frame = 4;

struct secure_channel_fixture {
  secure_channel_fixture() : n(node::create({.threads = 2, .logger = logs.logger()})) {
    alice = sc::channel_identity::create(vault::identity::create(keys, vault::key_lifetime::ephemeral).value()).value();
    bob = sc::channel_identity::create(vault::identity::create(keys, vault::key_lifetime::ephemeral).value()).value();
    REQUIRE(n.start_worker("echoer", services::echoer{}));
    relay = std::make_shared<tap>();
    REQUIRE(n.block_on([&](context& ctx) { return ctx.start_worker_ptr({"tap"}, relay); }));
  }

  sc::options options_for(const sc::channel_identity& who) const {
    sc::options o;
    o.identity = who;
    o.trust = sc::trust_policy::everyone();
    o.handshake_timeout = 3s;
    o.expose = {"echoer"};
    return o;
  }

  result_or_failure<sc::listener> listen(sc::options o, address at = "listener") {
    return n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, at, o); });
  }
  /// Alice's channel to Bob's listener, through the tap.
  result_or_failure<sc::channel> connect(sc::options o, route to = route{"tap", "listener"}) {
    return n.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, to, o); });
  }

  /// Sends `text` through `channel` to the echoer and waits for the echo.
  result<std::string> echo(const sc::channel& channel, std::string text, duration timeout = 3s) {
    return n.send_and_receive<std::string>(route{channel.address(), "echoer"}, text, timeout);
  }

  log_capture logs;
  node n;
  std::shared_ptr<vault::vault> keys = vault::vault::create_in_memory();
  sc::channel_identity alice, bob;
  std::shared_ptr<tap> relay;
};

}  // namespace nodus::test
