// A portal through a relay on a hub: Bob has no listening port; he registers "bob" at the hub's
// forwarding service, and Alice's secure channel, and the portal inside it, go through the hub,
// which carries only ciphertext.

#include "nodus/relay/relay.hpp"

#include <doctest/doctest.h>

#include "portal_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

TEST_CASE("a portal through a secure channel through a relay on a hub carries streams both ways") {
  target_server target(echo_back);
  tcp_node hub("127.0.0.1:0", {}, /*with_echoer=*/false, {"forwarding_service"});
  REQUIRE(hub.n.start_worker("forwarding_service", relay::forwarding_service({.sweep_interval = 50ms})));
  inlet_node alice;
  outlet_node bob("", new_identity(), std::vector<vault::identifier>{alice.identity.id()},
                  {.target = target.address()});  // no listening port
  auto relay_client = std::make_shared<relay::relay_client>(relay::relay_client_options{
      .service = route{tcp(hub.bound), "forwarding_service"}, .name = "bob", .expose = {"listener"}});
  REQUIRE(bob.node.n.block_on([&](context& ctx) { return ctx.start_processor_ptr("relay_client", relay_client); }));
  REQUIRE(eventually([&] { return relay_client->status().now == relay::relay_status::state::registered; }));

  const auto channel = alice.channel_to(route{tcp(hub.bound), "forward_to_bob", "listener"}, bob.identity.id());
  auto inlet = alice.inlet({.to = route{channel.address(), "outlet"}});

  auto big = new_client(inlet.bound(), pattern(2 << 20, 51));
  std::vector<client> small;
  for (int i = 0; i < 20; ++i) small.push_back(new_client(inlet.bound(), pattern(10000 + i, 60 + i)));
  std::vector<client*> all{&big};
  for (auto& c : small) all.push_back(&c);
  REQUIRE(run_clients(all, 120s));
  int intact = 0;
  for (auto* c : all) intact += c->error == 0 && c->received == c->to_send;
  CHECK(intact == 21);
  CHECK(eventually([&] { return inlet.stats().connections_open == 0 && bob.outlet->stats().connections_open == 0; }));
  CHECK(inlet.stats().connections_failed == 0);
  CHECK(bob.outlet->stats().connections_total == 21);
  CHECK(bob.node.logs.eventually_contains("relay client: registered as 'forward_to_bob'"));
}
