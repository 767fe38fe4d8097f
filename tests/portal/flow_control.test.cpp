// Who may reach an outlet and its connections: the outlet only from the flows it is exposed to,
// each connection worker only from the flow of the peer that opened it. Mallory, whom Bob's
// listener also trusts (her channel is a flow of its own), and anyone on Bob's TCP listener try
// to reach the outlet and to inject into Alice's connection; Alice's stream stays hers.

#include <doctest/doctest.h>

#include "portal_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

task<result<>> send_bytes(context& ctx, route to, bytes payload) {
  co_return co_await ctx.send(std::move(to), std::move(payload));
}

}  // namespace

TEST_CASE("a stranger on another flow can neither reach the outlet nor inject into a connection") {
  target_server target(echo_back);
  inlet_node alice, mallory;
  outlet_node bob("127.0.0.1:0", new_identity(),
                  std::vector<vault::identifier>{alice.identity.id(), mallory.identity.id()},
                  {.target = target.address()});
  const auto alice_channel = alice.channel_to(route{tcp(bob.node.bound), "listener"}, bob.identity.id());
  const auto mallory_channel = mallory.channel_to(route{tcp(bob.node.bound), "listener"}, bob.identity.id());
  auto inlet = alice.inlet({.to = route{alice_channel.address(), "outlet"}});

  auto c = new_client(inlet.bound(), pattern(64 * 1024, 31));
  c.keep_open = true;  // the connection stays open while Mallory tries
  REQUIRE(run_until(
      c, [&] { return c.received.size() == 64 * 1024; }, 30s));
  const auto connections = connection_workers(bob.node.n, "portal.out.");
  REQUIRE(connections.size() == 1);
  const auto& connection = connections.front();
  const auto mallory_says = [&](route to, bytes payload) {
    REQUIRE(mallory.node.n.block_on([&](context& ctx) { return send_bytes(ctx, to, payload); }));
  };
  const bytes forged_bytes(100, 'X');
  const auto forged =
      portal::encode(portal::message{.kind = portal::message_kind::data, .value = 64 * 1024, .data = forged_bytes});
  const auto close = portal::encode(portal::message::close(portal::close_code::stopped, "bye"));

  // 1. Through her own channel, into Alice's connection: its worker is reachable from Alice's
  //    channel only.
  mallory_says(route{mallory_channel.address(), connection}, forged);
  mallory_says(route{mallory_channel.address(), connection}, close);
  CHECK(bob.node.logs.eventually_contains("flow control: '" + connection.value() +
                                          "' refused a message from secure channel"));
  CHECK(bob.node.logs.contains("it is not exposed to that origin"));
  // 2. Over Bob's TCP listener, which exposes only the channel listener: neither the connection
  //    nor the outlet.
  mallory_says(route{tcp(bob.node.bound), connection}, forged);
  const auto open = portal::encode(portal::message::open(65536));
  mallory_says(route{tcp(bob.node.bound), "outlet"}, open);
  CHECK(bob.node.logs.eventually_contains("flow control: '" + connection.value() +
                                          "' refused a message from tcp connection from"));
  CHECK(bob.node.logs.eventually_contains("flow control: 'outlet' refused a message from tcp connection from"));
  CHECK(bob.outlet->stats().connections_total == 1);  // Mallory's open request made no connection
  // 3. Even if Bob exposed the connection's worker to every channel of his listener by mistake,
  //    the connection itself takes messages from Alice's channel only.
  bob.node.n.create_context().expose(bob.listener->flow(), connection);
  mallory_says(route{mallory_channel.address(), connection}, forged);
  CHECK(bob.node.logs.eventually_contains("refused a message from secure channel"));
  CHECK(bob.node.logs.eventually_contains("only the inlet's end of the connection may send to it"));

  // Alice's stream is intact and hers: the next bytes and the end of the stream cross as usual.
  const auto more = pattern(64 * 1024, 32);
  c.to_send.insert(c.to_send.end(), more.begin(), more.end());
  c.keep_open = false;
  REQUIRE(run_client(c, 30s));
  CHECK(c.error == 0);
  CHECK(c.received == c.to_send);
  CHECK(eventually([&] { return inlet.stats().connections_open == 0; }));
  CHECK(inlet.stats().connections_failed == 0);
  CHECK(bob.outlet->stats().connections_failed == 0);
}

TEST_CASE("an outlet reachable from a channel listener serves each channel's peer on a connection of its own") {
  target_server target(echo_back);
  inlet_node alice, mallory;
  outlet_node bob("127.0.0.1:0", new_identity(),
                  std::vector<vault::identifier>{alice.identity.id(), mallory.identity.id()},
                  {.target = target.address()});
  auto alice_inlet = alice.inlet(
      {.to = route{alice.channel_to(route{tcp(bob.node.bound), "listener"}, bob.identity.id()).address(), "outlet"}});
  auto mallory_inlet = mallory.inlet(
      {.to = route{mallory.channel_to(route{tcp(bob.node.bound), "listener"}, bob.identity.id()).address(), "outlet"}});
  auto a = new_client(alice_inlet.bound(), pattern(200 * 1024, 41));
  auto m = new_client(mallory_inlet.bound(), pattern(300 * 1024, 42));
  REQUIRE(run_clients({&a, &m}, 60s));
  CHECK(a.received == a.to_send);
  CHECK(m.received == m.to_send);
  CHECK(bob.outlet->stats().connections_total == 2);
  CHECK(eventually([&] { return bob.outlet->stats().connections_open == 0; }));
  CHECK(bob.outlet->stats().connections_failed == 0);
}
