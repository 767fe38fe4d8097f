// Awaiting a relay registration (`relay_client::registered`) instead of polling `status()`, and
// the order in which a registration is published: its log line and counter come first.

#include <future>
#include <ostream>

#include <doctest/doctest.h>

#include "nodus/relay/relay.hpp"
#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

struct hub_node : tcp_node {
  hub_node() : tcp_node("127.0.0.1:0", {}, /*with_echoer=*/false, {"forwarding_service"}) {
    REQUIRE(n.start_worker("forwarding_service", relay::forwarding_service({.sweep_interval = 50ms})));
  }
};

relay::relay_client_options options_for(const std::string& hub, std::string name) {
  return {.service = route{tcp(hub), "forwarding_service"},
          .name = std::move(name),
          .expose = {"echoer"},
          .ping_interval = 100ms,
          .reply_timeout = 500ms,
          .retry_backoff = 50ms,
          .max_retry_backoff = 200ms};
}

// A peer that starts a relay client; it does not wait for the registration.
struct peer_node : tcp_node {
  explicit peer_node(relay::relay_client_options o)
      : tcp_node({}, tcp_options{.reconnect_backoff = 50ms, .max_reconnect_backoff = 200ms}),
        client(std::make_shared<relay::relay_client>(std::move(o))) {
    REQUIRE(n.block_on([this](context& ctx) { return ctx.start_processor_ptr("relay_client", client); }));
  }
  result_or_failure<relay::relay_status> wait(duration timeout) {
    return n.block_on([this, timeout](context& ctx) { return client->registered(ctx, timeout); });
  }
  std::shared_ptr<relay::relay_client> client;
};

// A hub address where nothing listens: a port taken from a listener that is then closed.
std::string closed_port() {
  std::string at;
  {
    tcp_node gone("127.0.0.1:0", {}, false, {});
    at = gone.bound;
  }
  return at;
}

}  // namespace

TEST_CASE("registered() returns once the hub has answered, with the relay's address") {
  hub_node hub;
  peer_node bob(options_for(hub.bound, "bob"));
  auto registered = bob.wait(10s);
  REQUIRE(registered);
  CHECK(registered.value().now == relay::relay_status::state::registered);
  CHECK(registered.value().relay == "forward_to_bob");
  // Everything the answer causes has happened by the time the wait ends.
  CHECK(registered.value().registrations >= 1);
  CHECK(bob.logs.contains("relay client: registered as 'forward_to_bob'"));
  CHECK(bob.logs.contains("relay client: exposes 1 worker(s)"));

  tcp_node alice;
  auto reply = echo(alice.n, route{tcp(hub.bound), "forward_to_bob", "echoer"}, "hi bob");
  REQUIRE(reply);
  CHECK(reply.value().body() == "hi bob");
}

TEST_CASE("registered() on a client already registered returns at once, also from a coroutine") {
  hub_node hub;
  peer_node bob(options_for(hub.bound, {}));  // the hub picks the name
  auto first = bob.wait(10s);
  REQUIRE(first);
  CHECK(first.value().relay.starts_with(relay::relay_prefix));
  auto again = bob.wait(1ms);  // no time to wait at all: it is already registered
  REQUIRE(again);
  CHECK(again.value().relay == first.value().relay);
}

TEST_CASE("whoever sees 'registered' in status() also finds its log line and its count") {
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    hub_node hub;
    peer_node bob(options_for(hub.bound, "bob"));
    REQUIRE(eventually([&] { return bob.client->status().now == relay::relay_status::state::registered; }));
    // Checked right after the state was seen, on purpose: that is the order being promised.
    CHECK(bob.client->status().registrations >= 1);
    CHECK(bob.logs.contains("relay client: registered as 'forward_to_bob'"));
  }
}

TEST_CASE("registered() times out with errc::timeout and says what the last attempt got") {
  peer_node bob(options_for(closed_port(), "bob"));
  auto registered = bob.wait(300ms);
  REQUIRE_FALSE(registered);
  CHECK(registered.error().code == errc::timeout);
  CHECK(registered.error().code == condition::timeout);
  CHECK(registered.error().message().find("relay client: not registered via 1#") == 0);
  CHECK(registered.error().message().find("within 300 ms") != std::string::npos);
  CHECK(bob.client->status().now != relay::relay_status::state::registered);
  CHECK_THROWS_AS((void)registered.value(), nodus::error);
}

TEST_CASE("registered() waits through refusals until the name is free") {
  hub_node hub;
  const auto hub_at = hub.bound;
  // Refused first (the name is taken by a live client), registered once that client is gone.
  std::optional<peer_node> holder;
  holder.emplace(options_for(hub_at, "bob"));
  REQUIRE(holder->wait(10s));
  peer_node bob(options_for(hub_at, "bob"));
  auto waiting = std::async(std::launch::async, [&] { return bob.wait(20s); });
  REQUIRE(eventually([&] { return bob.client->status().now == relay::relay_status::state::refused; }));
  holder.reset();
  auto registered = waiting.get();
  REQUIRE(registered);
  CHECK(registered.value().relay == "forward_to_bob");
}

TEST_CASE("registered() ends with errc::stopped when the client stops first") {
  peer_node bob(options_for(closed_port(), "bob"));
  auto waiting = std::async(std::launch::async, [&] { return bob.wait(60s); });
  REQUIRE(eventually([&] { return bob.client->status().now == relay::relay_status::state::retrying; }));
  REQUIRE(bob.n.stop_worker("relay_client"));
  auto registered = waiting.get();
  REQUIRE_FALSE(registered);
  CHECK(registered.error().code == errc::stopped);
  // A wait after the stop ends at once too.
  auto later = bob.wait(60s);
  REQUIRE_FALSE(later);
  CHECK(later.error().code == errc::stopped);
}
