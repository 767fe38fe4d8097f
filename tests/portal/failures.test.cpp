// A connection that fails at one end closes the other, and each side says why in one log line:
// the target refusing or closing mid-stream, the outlet's node stopping, an outlet that never
// answers, the inlet's and outlet's own stops and limits.

#include <doctest/doctest.h>

#include "portal_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

// A client that only reads, until its connection ends.
client reader(const std::string& inlet) {
  auto c = new_client(inlet, {});
  c.keep_open = true;
  return c;
}

// Drops every message: an "outlet" that never answers.
class blackhole final : public raw_worker {
public:
  task<result<>> handle_message(context&, local_message) override { co_return ok(); }
};

// Alice's route to Bob's outlet: the channel she has, while it still answers, else a new one.
struct channel_resolver {
  route to_listener;
  sc::options options;
  std::mutex mutex;
  std::optional<sc::channel> channel;
  std::atomic<int> created{0};
};

task<result_or_failure<route>> resolve_channel(context& ctx, std::shared_ptr<channel_resolver> r) {
  std::optional<sc::channel> current;
  {
    std::lock_guard lock(r->mutex);
    current = r->channel;
  }
  if (current && current->open()) {
    route probe{current->address(), "echoer"};  // named: no braced temporaries inside co_await
    std::string ping = "ping";
    auto alive = co_await ctx.send_and_receive<std::string>(std::move(probe), std::move(ping), 1s);
    route to_outlet{current->address(), "outlet"};
    if (alive) co_return to_outlet;
  }
  auto made = co_await sc::create_secure_channel(ctx, r->to_listener, r->options);
  if (!made) co_return made.error();
  {
    std::lock_guard lock(r->mutex);
    r->channel = made.value();
  }
  r->created += 1;
  route to_outlet{made.value().address(), "outlet"};
  co_return to_outlet;
}

task<result_or_failure<route>> no_route(context&) { co_return fail(errc::unknown_address, "no channel to Bob today"); }

// A socket to `at` connects (and is closed again at once).
bool connects(const std::string& at) {
  const int fd = connect_to(at);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

task<result<>> stop_outlet(context& ctx, address at) { co_return co_await portal::stop_tcp_outlet(ctx, at); }
task<result<>> stop_inlet(context& ctx, address at) { co_return co_await portal::stop_tcp_inlet(ctx, at); }

}  // namespace

TEST_CASE("a target that refuses: the client's connection is closed, and both sides log why") {
  const auto nobody = restartable_address();  // nothing listens there
  portal_pair p(echo_back, {.target = nobody});
  auto c = reader(p.inlet_address());
  REQUIRE(run_client(c, 20s));
  CHECK(c.received.empty());
  CHECK(p.bob->node.logs.eventually_contains("tcp outlet 'outlet': connection to " + nobody));
  CHECK(
      p.bob->node.logs.eventually_contains("cannot connect: Connection refused; closing the inlet's end (portal.in."));
  CHECK(p.alice.node.logs.eventually_contains(
      "closed by the outlet (connect failed): the outlet cannot connect to its target: Connection refused"));
  CHECK(eventually(
      [&] { return p.inlet->stats().connections_failed == 1 && p.outlet().stats().connections_failed == 1; }));
  CHECK(p.inlet->stats().connections_open == 0);
  CHECK(p.outlet().stats().connections_open == 0);
  CHECK(p.target.accepted() == 0);
}

TEST_CASE("the target closing mid-stream closes the client's connection, and both sides log why") {
  portal_pair p([](target_server& server, int fd) {
    std::vector<std::uint8_t> buffer(64 * 1024);
    std::size_t got = 0;
    while (got < buffer.size()) {
      const auto n = ::recv(fd, buffer.data() + got, buffer.size() - got, 0);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
    server.close(fd);  // with the client's bytes still arriving: the outlet gets a reset
  });
  auto c = new_client(p.inlet_address(), pattern(16 << 20, 2));
  REQUIRE(run_client(c, 60s));  // the client's connection ends
  CHECK((c.error != 0 || c.eof));
  CHECK(c.received.empty());
  CHECK(p.bob->node.logs.eventually_contains("tcp outlet 'outlet': connection to " + p.target.address()));
  CHECK(p.bob->node.logs.eventually_contains("; closing the inlet's end (portal.in."));
  CHECK(
      p.alice.node.logs.eventually_contains("closed by the outlet (connection reset): the target's connection failed"));
  CHECK(eventually([&] { return p.inlet->stats().connections_open == 0 && p.outlet().stats().connections_open == 0; }));
  CHECK(p.inlet->stats().bytes_unacknowledged == 0);
  CHECK(p.outlet().stats().bytes_buffered == 0);
}

TEST_CASE("the outlet's node stopping mid-transfer fails the connection; the next one after it returns works") {
  gate stalled;  // the target echoes 1 MiB, then stops reading: the transfer stays in the middle
  target_server target(echo_then_wait(1 << 20, stalled));
  target.on_stop = [&] { stalled.open(); };
  const auto bob_at = restartable_address();
  const auto bob_id = new_identity();
  inlet_node alice(tcp_options{.reconnect_backoff = 50ms, .max_reconnect_backoff = 200ms});
  const portal::outlet_options oo{.target = target.address(), .keepalive_interval = 100ms, .peer_timeout = 1s};
  std::optional<outlet_node> bob;
  bob.emplace(bob_at, bob_id, std::vector<vault::identifier>{alice.identity.id()}, oo);

  auto resolver = std::make_shared<channel_resolver>();
  resolver->to_listener = route{tcp(bob_at), "listener"};
  resolver->options = sc::options{.identity = alice.identity, .trust = sc::trust_policy::identifier(bob_id.id())};
  auto inlet = alice.inlet({.resolve = [resolver](context& ctx) { return resolve_channel(ctx, resolver); },
                            .keepalive_interval = 100ms,
                            .peer_timeout = 1s});

  auto first = new_client(inlet.bound(), pattern(4 << 20, 6));
  REQUIRE(run_until(
      first, [&] { return first.received.size() >= (1u << 20); }, 60s));
  bob.reset();  // Bob's node stops under the transfer
  REQUIRE(run_client(first, 20s));
  CHECK(first.received.size() == (1u << 20));
  CHECK(first.received == bytes(first.to_send.begin(), first.to_send.begin() + (1 << 20)));
  // Either the outlet's stop got its word out, or the inlet stops hearing from it.
  CHECK(eventually([&] {
    return alice.node.logs.contains("closed by the outlet (stopped): the outlet was stopped") ||
           alice.node.logs.contains("nothing heard from the outlet for 1000 ms (peer_timeout)");
  }));
  CHECK(eventually([&] { return inlet.stats().connections_open == 0; }));
  CHECK(inlet.stats().connections_failed == 1);
  CHECK(inlet.stats().bytes_unacknowledged == 0);

  bob.emplace(bob_at, bob_id, std::vector<vault::identifier>{alice.identity.id()}, oo);  // back, on the same port
  auto second = new_client(inlet.bound(), pattern(256 * 1024, 7));
  REQUIRE(run_client(second, 60s));
  CHECK(second.error == 0);
  CHECK(second.received == second.to_send);
  CHECK(resolver->created.load() == 2);  // the resolver noticed the old channel was dead
  CHECK(inlet.stats().connections_failed == 1);
}

TEST_CASE("the secure channel closing under an idle connection closes both ends within a keepalive interval") {
  gate stalled;
  portal_pair p(echo_then_wait(64 * 1024, stalled), {.keepalive_interval = 100ms}, {.keepalive_interval = 100ms});
  p.target.on_stop = [&] { stalled.open(); };
  auto c = new_client(p.inlet_address(), pattern(64 * 1024, 13));
  c.keep_open = true;
  REQUIRE(run_until(
      c, [&] { return c.received.size() == 64 * 1024; }, 30s));

  const auto channel = p.channel->address();
  REQUIRE(p.alice.node.n.block_on([&](context& ctx) { return sc::close_secure_channel(ctx, channel); }));
  REQUIRE(run_client(c, 20s));  // its connection is closed
  CHECK(p.alice.node.logs.eventually_contains("cannot send to the outlet: no worker at that address; closing it"));
  CHECK(p.bob->node.logs.eventually_contains("cannot send to the inlet: no worker at that address; closing it"));
  CHECK(eventually([&] { return p.inlet->stats().connections_open == 0 && p.outlet().stats().connections_open == 0; }));
}

TEST_CASE("an outlet that never answers, or no route at all: the inlet closes the client's connection and says why") {
  inlet_node alice;
  REQUIRE(alice.node.n.start_worker("blackhole", blackhole{}));

  auto silent = alice.inlet({.to = route{"blackhole"}, .open_timeout = 300ms}, "silent");
  auto c1 = reader(silent.bound());
  REQUIRE(run_client(c1, 10s));
  CHECK(c1.received.empty());
  CHECK(alice.node.logs.eventually_contains("tcp inlet 'silent': connection from 127.0.0.1:"));
  CHECK(alice.node.logs.eventually_contains("no answer from the outlet within 300 ms (open_timeout); closing it"));
  CHECK(eventually([&] { return silent.stats().connections_failed == 1; }));

  auto nowhere = alice.inlet({.to = route{"nobody"}}, "nowhere");
  auto c2 = reader(nowhere.bound());
  REQUIRE(run_client(c2, 10s));
  CHECK(alice.node.logs.eventually_contains(
      "cannot send the open request along nobody: no worker at that address; closing it"));

  auto unresolved = alice.inlet({.resolve = no_route}, "unresolved");
  auto c3 = reader(unresolved.bound());
  REQUIRE(run_client(c3, 10s));
  CHECK(alice.node.logs.eventually_contains("no route to the outlet: no channel to Bob today; closing it"));
  CHECK(eventually([&] { return unresolved.stats().connections_failed == 1; }));
  CHECK(unresolved.stats().connections_open == 0);
}

TEST_CASE("stopping an outlet closes its connections and tells the inlets; stopping an inlet stops its listener") {
  gate stalled;
  portal_pair p(echo_then_wait(64 * 1024, stalled));
  p.target.on_stop = [&] { stalled.open(); };
  auto c = new_client(p.inlet_address(), pattern(256 * 1024, 11));
  c.keep_open = true;
  REQUIRE(run_until(
      c, [&] { return c.received.size() >= 64 * 1024; }, 30s));
  REQUIRE(p.outlet().stats().connections_open == 1);

  REQUIRE(p.bob->node.n.block_on([&](context& ctx) { return stop_outlet(ctx, "outlet"); }));
  REQUIRE(run_client(c, 20s));
  CHECK(p.bob->node.logs.eventually_contains("tcp outlet 'outlet': stopping; closing its 1 connection"));
  CHECK(p.bob->node.logs.eventually_contains("the outlet is stopping; closing the inlet's end (portal.in."));
  CHECK(p.alice.node.logs.eventually_contains("closed by the outlet (stopped): the outlet was stopped"));
  CHECK(eventually([&] { return p.inlet->stats().connections_open == 0; }));
  CHECK(p.outlet().stats().connections_open == 0);
  CHECK(connection_workers(p.bob->node.n, "portal.out.").empty());
  // Gone: stopping it again, or stopping something that is not an outlet, is an error.
  CHECK(p.bob->node.n.block_on([&](context& ctx) { return stop_outlet(ctx, "outlet"); }).error() ==
        errc::unknown_address);
  CHECK(p.bob->node.n.block_on([&](context& ctx) { return stop_outlet(ctx, "echoer"); }).error() ==
        errc::unknown_address);
  CHECK(p.alice.node.n.block_on([&](context& ctx) { return stop_inlet(ctx, "echoer"); }).error() ==
        errc::unknown_address);

  REQUIRE(p.alice.node.n.block_on([&](context& ctx) { return stop_inlet(ctx, "inlet"); }));
  CHECK(p.alice.node.logs.eventually_contains("tcp inlet 'inlet': stopping; closing its 0 connections"));
  CHECK(eventually([&] { return !connects(p.inlet_address()); }));  // nobody listens any more
}

TEST_CASE("stopping an inlet closes its open connections and tells the outlet") {
  gate stalled;
  portal_pair p(echo_then_wait(64 * 1024, stalled));
  p.target.on_stop = [&] { stalled.open(); };
  auto c = new_client(p.inlet_address(), pattern(256 * 1024, 12));
  c.keep_open = true;
  REQUIRE(run_until(
      c, [&] { return c.received.size() >= 64 * 1024; }, 30s));

  REQUIRE(p.alice.node.n.block_on([&](context& ctx) { return stop_inlet(ctx, "inlet"); }));
  REQUIRE(run_client(c, 20s));  // its connection is closed
  CHECK(p.alice.node.logs.eventually_contains("tcp inlet 'inlet': stopping; closing its 1 connection"));
  CHECK(p.alice.node.logs.eventually_contains("the inlet is stopping; closing the outlet's end (portal.out."));
  CHECK(p.bob->node.logs.eventually_contains("closed by the inlet (stopped): the inlet was stopped"));
  CHECK(eventually([&] { return p.outlet().stats().connections_open == 0; }));
  CHECK(p.inlet->stats().connections_open == 0);
}

TEST_CASE("over its connection limit an outlet refuses new connections, and the inlet says why") {
  gate stalled;
  portal_pair p(echo_then_wait(0, stalled), {.max_connections = 1});
  p.target.on_stop = [&] { stalled.open(); };
  auto first = reader(p.inlet_address());
  REQUIRE(run_until(
      first, [&] { return p.outlet().stats().connections_open == 1; }, 20s));

  auto second = reader(p.inlet_address());  // the inlet takes it; the outlet, at its limit, refuses it
  REQUIRE(run_client(second, 20s));
  CHECK(p.alice.node.logs.eventually_contains(
      "closed by the outlet (refused): the outlet has reached its limit of 1 connections (max_connections)"));
  CHECK(p.bob->node.logs.eventually_contains("refused: the outlet has reached its limit of 1 connections"));
  CHECK(eventually([&] { return p.outlet().stats().connections_failed == 1; }));
  CHECK(first.error == 0);
  CHECK_FALSE(first.eof);  // the first connection is still open
  CHECK(p.outlet().stats().connections_open == 1);
}

TEST_CASE("over its connection limit an inlet closes new clients at once, with a log line") {
  inlet_node alice;
  REQUIRE(alice.node.n.start_worker("blackhole", blackhole{}));
  auto inlet = alice.inlet({.to = route{"blackhole"}, .open_timeout = 60s, .max_connections = 2});
  auto first = reader(inlet.bound()), second = reader(inlet.bound());  // both wait for an answer
  REQUIRE(eventually([&] { return inlet.stats().connections_open == 2; }));
  auto third = reader(inlet.bound());
  REQUIRE(run_client(third, 20s));  // closed at once
  CHECK(alice.node.logs.eventually_contains("tcp inlet 'inlet': refused 1 connection (the last from 127.0.0.1:"));
  CHECK(alice.node.logs.eventually_contains("the limit of 2 open connections (max_connections) is reached"));
  CHECK(inlet.stats().connections_open == 2);
  CHECK(inlet.stats().connections_total == 2);
}

TEST_CASE("options that cannot work are refused with the reason") {
  inlet_node alice;
  auto outlet = [&](portal::outlet_options o) {
    return alice.node.n.block_on([&](context& ctx) { return make_outlet(ctx, "o", o); });
  };
  auto inlet = [&](portal::inlet_options o, address at = "i") {
    return alice.node.n.block_on([&](context& ctx) { return make_inlet(ctx, at, o); });
  };
  auto bad_target = outlet({.target = "no-port"});
  REQUIRE_FALSE(bad_target);
  CHECK(bad_target.error().code == errc::invalid_address);
  CHECK(bad_target.error().message() == "tcp outlet 'o': the target 'no-port' is not host:port");
  auto no_window = outlet({.target = "127.0.0.1:1", .window_bytes = 0});
  REQUIRE_FALSE(no_window);
  CHECK(no_window.error().code == std::errc::invalid_argument);
  auto big_chunk = outlet({.target = "127.0.0.1:1", .chunk_bytes = portal::max_data_bytes + 1});
  REQUIRE_FALSE(big_chunk);
  CHECK(big_chunk.error().message().find("chunk_bytes must be between 1 and") != std::string::npos);

  auto no_route = inlet({.bind = "127.0.0.1:0"});
  REQUIRE_FALSE(no_route);
  CHECK(no_route.error().code == errc::empty_route);
  auto first = inlet({.bind = "127.0.0.1:0", .to = route{"x"}});
  REQUIRE(first);
  auto taken_port = inlet({.bind = first.value().bound(), .to = route{"x"}}, "j");
  REQUIRE_FALSE(taken_port);
  CHECK(taken_port.error().message().find("cannot listen on " + first.value().bound()) != std::string::npos);
  auto taken_address = inlet({.bind = "127.0.0.1:0", .to = route{"x"}}, "i");
  REQUIRE_FALSE(taken_address);
  CHECK(taken_address.error().code == errc::already_exists);
  REQUIRE(outlet({.target = "localhost:1"}));
}
