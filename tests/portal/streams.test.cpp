// Byte streams through a portal: Alice's inlet, a secure channel over loopback TCP, Bob's outlet,
// and a target server. Bytes arrive intact both ways, half-closes cross in both directions, and
// many connections share one channel.

#include <doctest/doctest.h>

#include "portal_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

// Both portal ends have closed every connection (after both streams ended).
bool all_closed(portal_pair& p) {
  return p.inlet->stats().connections_open == 0 && p.outlet().stats().connections_open == 0;
}

}  // namespace

TEST_CASE("4 MiB cross the portal and come back intact, and the connection closes when both streams end") {
  portal_pair p(echo_back);
  auto c = new_client(p.inlet_address(), pattern(4 << 20, 1));
  REQUIRE(run_client(c, 120s));
  CHECK(c.error == 0);
  CHECK(c.received.size() == c.to_send.size());
  CHECK(c.received == c.to_send);

  REQUIRE(eventually([&] { return all_closed(p); }, 10s));
  const auto in = p.inlet->stats(), out = p.outlet().stats();
  CHECK(in.connections_total == 1);
  CHECK(in.connections_failed == 0);
  CHECK(in.bytes_in == 4u << 20);
  CHECK(in.bytes_out == 4u << 20);
  CHECK(in.bytes_unacknowledged == 0);
  CHECK(in.bytes_buffered == 0);
  CHECK(out.connections_total == 1);
  CHECK(out.connections_failed == 0);
  CHECK(out.bytes_in == 4u << 20);
  CHECK(out.bytes_out == 4u << 20);
  CHECK(p.alice.node.logs.eventually_contains("closed, both streams ended (4194304 bytes in, 4194304 out)"));
  CHECK(p.bob->node.logs.eventually_contains("closed, both streams ended (4194304 bytes in, 4194304 out)"));
  // Connection workers are gone on both nodes.
  CHECK(eventually([&] { return connection_workers(p.alice.node.n, "portal.in.").empty(); }));
  CHECK(eventually([&] { return connection_workers(p.bob->node.n, "portal.out.").empty(); }));
}

TEST_CASE("each direction carries its own stream, at the same time") {
  received_stream at_target;
  const auto from_target = pattern(3 << 20, 9);
  portal_pair p([&](target_server&, int fd) {
    std::thread writer([&] {
      if (write_all(fd, from_target.data(), from_target.size())) ::shutdown(fd, SHUT_WR);
    });
    read_to_end(fd, at_target);
    writer.join();
  });
  auto c = new_client(p.inlet_address(), pattern(2 << 20, 8));
  REQUIRE(run_client(c, 120s));
  CHECK(c.error == 0);
  CHECK(c.received == from_target);
  REQUIRE(eventually([&] { return at_target.has_ended(); }, 10s));
  CHECK(at_target.copy() == c.to_send);
}

TEST_CASE("half-close from the client: the target sees the end of the stream and can still answer") {
  // The target reads to the end, then answers with what it counted.
  portal_pair p([](target_server&, int fd) {
    received_stream got;
    read_to_end(fd, got);
    const auto answer = "received " + std::to_string(got.data.size()) + " bytes";
    if (write_all(fd, reinterpret_cast<const std::uint8_t*>(answer.data()), answer.size())) ::shutdown(fd, SHUT_WR);
  });
  auto c = new_client(p.inlet_address(), pattern(1 << 20, 3));
  REQUIRE(run_client(c, 60s));
  CHECK(c.error == 0);
  CHECK(c.shut);  // the client shut its sending side down first...
  CHECK(std::string(c.received.begin(), c.received.end()) == "received 1048576 bytes");  // ...and still got this
  CHECK(eventually([&] { return all_closed(p); }, 10s));
  CHECK(p.inlet->stats().connections_failed == 0);
}

TEST_CASE("half-close from the target: the client sees the end of the stream and can still send") {
  received_stream at_target;
  const auto greeting = pattern(300 * 1024, 4);
  portal_pair p([&](target_server&, int fd) {
    if (!write_all(fd, greeting.data(), greeting.size())) return;
    ::shutdown(fd, SHUT_WR);
    read_to_end(fd, at_target);
  });
  auto c = new_client(p.inlet_address(), {});
  c.keep_open = true;  // read the greeting to its end first
  REQUIRE(run_client(c, 60s));
  CHECK(c.eof);
  CHECK(c.received == greeting);
  CHECK_FALSE(at_target.has_ended());

  c.to_send = pattern(1 << 20, 5);  // then send, after the target's stream has ended
  c.keep_open = false;
  REQUIRE(run_client(c, 60s));
  CHECK(c.error == 0);
  REQUIRE(eventually([&] { return at_target.has_ended(); }, 10s));
  CHECK(at_target.copy() == c.to_send);
  CHECK(eventually([&] { return all_closed(p); }, 10s));
  CHECK(p.outlet().stats().connections_failed == 0);
}

TEST_CASE("200 connections at once, each with its own data, share the channel") {
  portal_pair p(echo_back);
  constexpr int count = 200;
  std::vector<client> clients;
  clients.reserve(count);
  for (int i = 0; i < count; ++i) {
    clients.push_back(new_client(p.inlet_address(), pattern(16 * 1024 + static_cast<std::size_t>(i) * 97, 100 + i)));
    REQUIRE(clients.back().fd >= 0);
  }
  std::vector<client*> all;
  for (auto& c : clients) all.push_back(&c);
  REQUIRE(run_clients(all, 120s));
  int intact = 0;
  for (const auto& c : clients) intact += c.error == 0 && c.received == c.to_send;
  CHECK(intact == count);
  CHECK(eventually([&] { return all_closed(p); }, 20s));
  CHECK(p.inlet->stats().connections_total == count);
  CHECK(p.outlet().stats().connections_total == count);
  CHECK(p.inlet->stats().connections_failed == 0);
  CHECK(p.target.accepted() == count);
}

TEST_CASE("without a secure channel: an inlet and an outlet on one node, and across plain TCP") {
  target_server target(echo_back);
  // One node: every message is this node's own.
  tcp_node both("127.0.0.1:0", {}, /*with_echoer=*/false, {"outlet"});
  auto outlet = both.n.block_on(
      [&](context& ctx) { return make_outlet(ctx, "outlet", portal::outlet_options{.target = target.address()}); });
  REQUIRE(outlet);
  auto local = both.n.block_on([&](context& ctx) {
    return make_inlet(ctx, "inlet", portal::inlet_options{.bind = "127.0.0.1:0", .to = route{"outlet"}});
  });
  REQUIRE(local);
  auto c1 = new_client(local.value().bound(), pattern(512 * 1024, 71));
  REQUIRE(run_client(c1, 60s));
  CHECK(c1.received == c1.to_send);

  // Another node, over a TCP listener that exposes the outlet.
  inlet_node alice;
  auto remote = alice.inlet({.to = route{tcp(both.bound), "outlet"}});
  auto c2 = new_client(remote.bound(), pattern(512 * 1024, 72));
  REQUIRE(run_client(c2, 60s));
  CHECK(c2.received == c2.to_send);
  CHECK(eventually([&] { return outlet.value().stats().connections_open == 0; }));
  CHECK(outlet.value().stats().connections_total == 2);
  CHECK(outlet.value().stats().connections_failed == 0);
}
