#pragma once
// Two nodes in one process over real loopback TCP: Alice with an inlet, Bob with an outlet
// behind a secure channel listener (each trusting the other by identifier), and the outlet's
// target, a small server run by the test.

#include <condition_variable>
#include <optional>

#include <doctest/doctest.h>

#include "nodus/portal/portal.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "target_server.hpp"
#include "tcp_nodes.hpp"

namespace nodus::test {

namespace sc = nodus::secure_channel;
namespace portal = nodus::portal;

inline sc::channel_identity new_identity() {
  return sc::channel_identity::create(vault::identity::create(vault::vault::create_in_memory()).value()).value();
}

inline task<result_or_failure<portal::tcp_outlet>> make_outlet(context& ctx, address at, portal::outlet_options o) {
  co_return co_await portal::create_tcp_outlet(ctx, std::move(at), std::move(o));
}
inline task<result_or_failure<portal::tcp_inlet>> make_inlet(context& ctx, address at, portal::inlet_options o) {
  co_return co_await portal::create_tcp_inlet(ctx, std::move(at), std::move(o));
}

/// Bob's side: a node listening on `listen` (its connections reach only the channel listener),
/// a channel listener trusting `trusted` that exposes the outlet and the echoer, and the outlet.
struct outlet_node {
  outlet_node(const std::string& listen, sc::channel_identity id, std::vector<vault::identifier> trusted,
              portal::outlet_options o)
      : node(listen, {}, /*with_echoer=*/true, {"listener"}), identity(std::move(id)) {
    auto made = node.n.block_on([&](context& ctx) { return make_outlet(ctx, "outlet", o); });
    REQUIRE_MESSAGE(made, made.error().message());
    outlet.emplace(made.value());
    sc::options so{.identity = identity, .trust = sc::trust_policy::any_of(std::move(trusted))};
    so.expose = {"outlet", "echoer"};
    auto l = node.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", so); });
    REQUIRE_MESSAGE(l, l.error().message());
    listener.emplace(l.value());
  }
  tcp_node node;
  sc::channel_identity identity;
  std::optional<portal::tcp_outlet> outlet;
  std::optional<sc::listener> listener;
};

/// Alice's side: a node without a listening port, its own identity.
struct inlet_node {
  explicit inlet_node(tcp_options options = {}) : node({}, options), identity(new_identity()) {}

  /// A channel to Bob's listener along `to_listener`, trusting `bob`.
  sc::channel channel_to(route to_listener, const vault::identifier& bob) {
    sc::options o{.identity = identity, .trust = sc::trust_policy::identifier(bob)};
    auto ch = node.n.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, to_listener, o); });
    REQUIRE_MESSAGE(ch, ch.error().message());
    return ch.value();
  }
  portal::tcp_inlet inlet(portal::inlet_options o, address at = "inlet") {
    if (o.bind.empty()) o.bind = "127.0.0.1:0";
    auto made = node.n.block_on([&](context& ctx) { return make_inlet(ctx, at, o); });
    REQUIRE_MESSAGE(made, made.error().message());
    return made.value();
  }
  tcp_node node;
  sc::channel_identity identity;
};

/// Alice's inlet reaching Bob's outlet through a secure channel, straight over TCP, with the
/// target running `handler` (the outlet dials it unless `oo.target` says otherwise).
struct portal_pair {
  explicit portal_pair(target_server::handler handler, portal::outlet_options oo = {}, portal::inlet_options io = {})
      : target(std::move(handler)) {
    if (oo.target.empty()) oo.target = target.address();
    bob.emplace("127.0.0.1:0", new_identity(), std::vector<vault::identifier>{alice.identity.id()}, oo);
    channel.emplace(alice.channel_to(route{tcp(bob->node.bound), "listener"}, bob->identity.id()));
    io.to = route{channel->address(), "outlet"};
    inlet.emplace(alice.inlet(io));
  }
  portal::tcp_outlet& outlet() { return *bob->outlet; }
  const std::string& inlet_address() const { return inlet->bound(); }

  target_server target;
  inlet_node alice;
  std::optional<outlet_node> bob;
  std::optional<sc::channel> channel;
  std::optional<portal::tcp_inlet> inlet;
};

/// A gate handlers wait at until the test opens it (at the latest when the gate goes).
class gate {
public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return open_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// The address (a `portal.out.` or `portal.in.` worker) of each connection worker on `n`.
inline std::vector<address> connection_workers(const node& n, std::string_view prefix) {
  std::vector<address> out;
  for (const auto& w : n.list_workers())
    if (w.addresses.front().value().starts_with(prefix)) out.push_back(w.addresses.front());
  return out;
}

}  // namespace nodus::test
