// Errors that cross nodes reach the sender at once: a message the hub cannot deliver (no such
// worker, no such relay, refused by flow control, a dial it may not make) is answered with a
// delivery-error notice, over real loopback TCP. Every wait below is given 30 s: a call that
// returns the error instead of timing out was answered by a notice.

#include <doctest/doctest.h>

#include "nodus/core/delivery_error.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/relay/relay.hpp"
#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

constexpr auto long_wait = 30s;

task<result_or_failure<routed<std::string>>> ask_why(context& ctx, route to, std::string text, duration timeout) {
  co_return co_await ctx.send_and_receive_or_failure<std::string>(std::move(to), std::move(text), timeout);
}

// Sends `text` along `to` and waits up to 30 s for the reply, or for the failure and its reason.
result_or_failure<routed<std::string>> ask(node& n, route to, std::string text = "hello") {
  return n.block_on([&](context& ctx) { return ask_why(ctx, to, text, long_wait); });
}

// A hub with the forwarding service and a worker that its listener does not expose.
struct hub_node : tcp_node {
  explicit hub_node(tcp_options options = {})
      : tcp_node("127.0.0.1:0", std::move(options), /*with_echoer=*/true, {"echoer", "forwarding_service"}) {
    REQUIRE(n.start_worker("forwarding_service", relay::forwarding_service({.sweep_interval = 50ms})));
    REQUIRE(n.start_worker("private", services::echoer{}));
  }
};

// Sends `m` as it is from a context on `n` (routes and kind as given).
task<result<>> forward_as_is(context& ctx, local_message m) { co_return co_await ctx.forward(std::move(m)); }

task<result<address>> connect_to(tcp_transport transport, std::string peer) {
  co_return co_await transport.connect(std::move(peer));
}

// The next message (or failure) at `at`, a context of the test, within `timeout`.
task<result_or_failure<local_message>> next_at(context* at, duration timeout) {
  co_return co_await at->receive_message_or_failure(timeout);
}

}  // namespace

TEST_CASE("a message to a worker the hub does not have fails at once with unknown_address and its reason") {
  hub_node hub;
  tcp_node client;
  auto reply = ask(client.n, route{tcp(hub.bound), "nosuchworker"});
  REQUIRE_FALSE(reply);
  CHECK(reply.error().code == errc::unknown_address);
  CHECK(reply.error().code == condition::not_found);
  CHECK(reply.error().reason == "no worker at 'nosuchworker'");

  // The codes-only API says the same, at once too.
  auto plain = echo(client.n, route{tcp(hub.bound), "nosuchworker"}, "hello", long_wait);
  REQUIRE_FALSE(plain);
  CHECK(plain.error() == errc::unknown_address);
  // The connection is still good for what the hub does have.
  CHECK(ask(client.n, route{tcp(hub.bound), "echoer"}).value().body() == "hello");
}

TEST_CASE("a message to a relay the hub does not have fails at once; one through a relay fails at the far end") {
  hub_node hub;
  tcp_node client;
  auto ghost = ask(client.n, route{tcp(hub.bound), "forward_to_ghost", "echoer"});
  REQUIRE_FALSE(ghost);
  CHECK(ghost.error().code == errc::unknown_address);
  CHECK(ghost.error().reason == "no worker at 'forward_to_ghost'");

  // Bob is registered through a relay; his node has no `nosuchworker`. His notice comes back
  // through the hub like any reply.
  tcp_node bob({}, tcp_options{.reconnect_backoff = 50ms});
  auto client_of_bob = std::make_shared<relay::relay_client>(
      relay::relay_client_options{.service = route{tcp(hub.bound), "forwarding_service"},
                                  .name = "bob",
                                  .expose = {"echoer"},
                                  .ping_interval = 100ms,
                                  .reply_timeout = 500ms,
                                  .retry_backoff = 50ms});
  REQUIRE(bob.n.block_on([&](context& ctx) { return ctx.start_processor_ptr("relay_client", client_of_bob); }));
  REQUIRE(eventually([&] { return client_of_bob->status().now == relay::relay_status::state::registered; }));
  CHECK(ask(client.n, route{tcp(hub.bound), "forward_to_bob", "echoer"}).value().body() == "hello");
  auto far = ask(client.n, route{tcp(hub.bound), "forward_to_bob", "nosuchworker"});
  REQUIRE_FALSE(far);
  CHECK(far.error().code == errc::unknown_address);
  CHECK(far.error().reason == "no worker at 'nosuchworker'");
  CHECK(bob.logs.eventually_contains("no worker at address 'nosuchworker'"));
}

TEST_CASE("a message the hub's flow control refuses fails at once with access_denied") {
  hub_node hub;
  tcp_node client;
  auto refused = ask(client.n, route{tcp(hub.bound), "private"});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::access_denied);
  CHECK(refused.error().code == condition::denied);
  CHECK(refused.error().reason == "'private' refused the message: not reachable from where it came in (flow control)");
  auto plain = echo(client.n, route{tcp(hub.bound), "private"}, "hello", long_wait);
  REQUIRE_FALSE(plain);
  CHECK(plain.error() == errc::access_denied);
}

TEST_CASE("a 1#host:port hop the hub may not dial fails at once with access_denied") {
  tcp_node elsewhere("127.0.0.1:0");
  hub_node hub;
  tcp_node client;
  auto refused = ask(client.n, route{tcp(hub.bound), tcp(elsewhere.bound), "echoer"});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::access_denied);
  CHECK(refused.error().reason ==
        "this node may not connect to '1#" + elsewhere.bound + "' for another node (allow_outgoing)");
  CHECK(hub.transport.connections().size() == 1);  // the client's own: nothing was dialled

  // Allowed, the same route goes through.
  hub_node allowing(tcp_options{.allow_outgoing = {elsewhere.bound}});
  CHECK(ask(client.n, route{tcp(allowing.bound), tcp(elsewhere.bound), "echoer"}).value().body() == "hello");
}

TEST_CASE("a notice that cannot be delivered is answered by nothing, and each message gets one notice") {
  hub_node hub;
  tcp_node client;
  auto collector = client.n.create_context("collector.");
  // The connection's own worker: the TCP router passes no notice on (a notice never dials).
  const auto connection = client.n.block_on([&](context&) { return connect_to(client.transport, hub.bound); }).value();

  // A forged notice to an address the hub does not have, whose return route leads back here.
  local_message forged{route{connection, "ghost"},
                       route{collector.address()},
                       encode_delivery_error({errc::unknown_address, "forged"}),
                       {}};
  forged.kind = message_kind::delivery_error;
  REQUIRE(client.n.block_on([&](context& ctx) { return forward_as_is(ctx, forged); }));
  // Then an ordinary message to an address it does not have, over the same connection. The hub
  // handles the two in order and would have answered the first before the second.
  local_message ordinary{route{connection, "nosuchworker"}, route{collector.address()}, bytes{1}, {}};
  REQUIRE(client.n.block_on([&](context& ctx) { return forward_as_is(ctx, ordinary); }));

  auto first = client.n.block_on([&](context&) { return next_at(&collector, long_wait); });
  REQUIRE_FALSE(first);
  CHECK(first.error().code == errc::unknown_address);
  CHECK(first.error().reason == "no worker at 'nosuchworker'");  // not about 'ghost'
  CHECK(hub.logs.eventually_contains("no worker at address 'ghost'"));

  // One notice for that message: an echo sent after it is the next thing to arrive.
  auto echoed = echo(client.n, route{tcp(hub.bound), "echoer"}, "after", long_wait);
  REQUIRE(echoed);
  local_message probe{route{tcp(hub.bound), "echoer"}, route{collector.address()}, bytes{0xa1, 'x'}, {}};
  REQUIRE(client.n.block_on([&](context& ctx) { return forward_as_is(ctx, probe); }));
  auto next = client.n.block_on([&](context&) { return next_at(&collector, long_wait); });
  REQUIRE(next);
  CHECK(next.value().payload == probe.payload);
}
