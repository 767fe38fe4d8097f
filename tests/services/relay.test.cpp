// Relays over real loopback TCP: a hub with the forwarding service, Bob without a listening
// port registered through a relay client, Alice reaching Bob's echoer through the hub.

#include "nodus/relay/relay.hpp"

#include <doctest/doctest.h>

#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

// A hub: listens, runs the forwarding service (sweeping every 50 ms), and has no echoer, so an
// echo through it proves the message reached the relay's client.
struct hub_node : tcp_node {
  explicit hub_node(std::string_view listen = "127.0.0.1:0")
      : tcp_node(listen, {}, /*with_echoer=*/false, {"forwarding_service"}) {
    REQUIRE(n.start_worker("forwarding_service", relay::forwarding_service({.sweep_interval = 50ms})));
  }
  bool has_worker(const std::string& name) {
    for (const auto& w : n.list_workers())
      if (w.addresses.front() == address(name)) return true;
    return false;
  }
};

// A peer without a listening port that registers `name` at the hub.
struct relayed_node : tcp_node {
  relayed_node(const std::string& hub, std::string name)
      : tcp_node({}, tcp_options{.reconnect_backoff = 50ms, .max_reconnect_backoff = 200ms}),
        client(std::make_shared<relay::relay_client>(
            relay::relay_client_options{.service = route{tcp(hub), "forwarding_service"},
                                        .name = std::move(name),
                                        .expose = {"echoer"},
                                        .ping_interval = 100ms,
                                        .reply_timeout = 500ms,
                                        .retry_backoff = 50ms,
                                        .max_retry_backoff = 200ms})) {
    REQUIRE(n.block_on([this](context& ctx) { return ctx.start_processor_ptr("relay_client", client); }));
  }
  relay::relay_status status() const { return client->status(); }
  bool registered() const { return status().now == relay::relay_status::state::registered; }

  std::shared_ptr<relay::relay_client> client;
};

}  // namespace

TEST_CASE("Alice reaches Bob's echoer through the hub's relay, and the reply comes back") {
  hub_node hub;
  relayed_node bob(hub.bound, "bob");
  REQUIRE(eventually([&] { return bob.registered(); }));
  CHECK(bob.status().relay == "forward_to_bob");
  CHECK(hub.has_worker("forward_to_bob"));
  CHECK(hub.logs.eventually_contains("'forward_to_bob' registered"));

  tcp_node alice;
  auto reply = echo(alice.n, route{tcp(hub.bound), "forward_to_bob", "echoer"}, "hi bob");
  REQUIRE(reply);
  CHECK(reply.value().body() == "hi bob");
  CHECK(bob.logs.eventually_contains("relay client: registered as 'forward_to_bob'"));
}

TEST_CASE("registrations are renewed by pings while the client lives") {
  hub_node hub;
  relayed_node bob(hub.bound, "bob");
  CHECK(eventually([&] { return bob.status().registrations >= 3; }));
  CHECK(bob.registered());
}

TEST_CASE("a name held by a live client is refused; once that client is gone it is free") {
  hub_node hub;
  std::optional<relayed_node> bob;
  bob.emplace(hub.bound, "bob");
  REQUIRE(eventually([&] { return bob->registered(); }));

  relayed_node impostor(hub.bound, "bob");
  REQUIRE(eventually([&] { return impostor.status().now == relay::relay_status::state::refused; }));
  CHECK(impostor.status().last_error == "relay name 'bob' is taken by a live client");
  tcp_node alice;
  CHECK(echo(alice.n, route{tcp(hub.bound), "forward_to_bob", "echoer"}));  // still the real Bob

  bob.reset();  // Bob's node stops: its connection drops, and the relay goes with it
  CHECK(eventually([&] { return !hub.has_worker("forward_to_bob") || impostor.registered(); }));
  CHECK(eventually([&] { return impostor.registered(); }));
}

TEST_CASE("a client with no name gets a random one and keeps it") {
  hub_node hub;
  relayed_node anonymous(hub.bound, "");
  REQUIRE(eventually([&] { return anonymous.status().registrations >= 2; }));
  const auto relay = anonymous.status().relay;
  CHECK(relay.starts_with("forward_to_"));
  CHECK(relay.size() == std::string("forward_to_").size() + 32);
  CHECK(eventually([&] { return anonymous.status().registrations >= 4; }));
  CHECK(anonymous.status().relay == relay);
}

TEST_CASE("invalid names are refused with the reason") {
  hub_node hub;
  relayed_node bad(hub.bound, "no spaces");
  REQUIRE(eventually([&] { return bad.status().now == relay::relay_status::state::refused; }));
  CHECK(bad.status().last_error.find("not a valid relay name") != std::string::npos);
}

TEST_CASE("the client registers again by itself after the hub restarts") {
  std::optional<hub_node> hub;
  hub.emplace(restartable_address());
  const auto where = hub->bound;
  relayed_node bob(where, "bob");
  REQUIRE(eventually([&] { return bob.registered(); }));

  hub.reset();  // the hub goes away...
  CHECK(eventually([&] { return bob.status().now == relay::relay_status::state::retrying; }));
  hub.emplace(where);  // ...and comes back on the same port, knowing nothing of Bob
  REQUIRE(eventually([&] { return hub->has_worker("forward_to_bob"); }, 10s));
  // The hub adds the relay before its reply reaches Bob: wait for Bob's side to know.
  CHECK(eventually([&] { return bob.registered(); }));
  tcp_node alice;
  CHECK(echo(alice.n, route{tcp(where), "forward_to_bob", "echoer"}).value().body() == "hello");
}
