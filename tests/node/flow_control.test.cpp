// Flow control: who beyond this node may reach a worker. Messages are stamped with an origin here
// the way a transport stamps what it reads from a socket.

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"

using namespace nodus;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const flow_origin> origin(std::string flow, std::string parent = {}) {
  return std::make_shared<const flow_origin>(flow_origin{std::move(flow), std::move(parent), "test flow"});
}

// Delivers a message to `to` as if it had come in by `from`.
result<> arrive(node& n, route to, std::shared_ptr<const flow_origin> from) {
  return n.block_on([&](context& ctx) {
    local_message m{std::move(to), route{ctx.address()}, message_codec<std::string>::encode("hi"), {}, from};
    return ctx.forward(std::move(m));
  });
}

// Sends every message it gets on to `next` as it is (origin kept), like a relay hop.
class passer final : public raw_worker {
public:
  task<result<>> handle_message(context& ctx, local_message m) override {
    (void)m.onward_route.step();
    co_return co_await ctx.forward(std::move(m));
  }
};

}  // namespace

TEST_CASE("a worker is reachable from elsewhere only when exposed to that flow, and a refusal is logged") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  auto from = origin("flow.a", "flow.listener");

  auto refused = arrive(n, route{"echoer"}, from);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::access_denied);
  CHECK(logs.eventually_contains(
      "flow control: 'echoer' refused a message from test flow: it is not exposed to that origin"));

  auto ctx = n.create_context();
  ctx.expose("flow.listener", "echoer");  // the parent: every flow the listener spawns
  CHECK(arrive(n, route{"echoer"}, from));
  CHECK(arrive(n, route{"echoer"}, origin("flow.b", "flow.listener")));
  CHECK_FALSE(arrive(n, route{"echoer"}, origin("flow.c")));
  CHECK(ctx.exposures("echoer") == std::vector<std::string>{"flow.listener"});

  ctx.unexpose_flow("flow.listener");
  CHECK_FALSE(arrive(n, route{"echoer"}, from));
  CHECK(arrive(n, route{"echoer"}, nullptr));  // made on this node: always
}

TEST_CASE("an exposure made before the worker starts applies to it, and to its restarts") {
  auto n = node::create({.threads = 2});
  n.create_context().expose("flow.x", "later");
  REQUIRE(n.start_worker("later", services::echoer{}));
  CHECK(arrive(n, route{"later"}, origin("flow.x")));
  REQUIRE(n.stop_worker("later"));
  REQUIRE(n.start_worker("later", services::echoer{}));
  CHECK(arrive(n, route{"later"}, origin("flow.x")));
}

TEST_CASE("this_node_only refuses every origin, even an exposed one; any_origin takes all") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  worker_options mine;
  mine.reach = reach::this_node_only;
  REQUIRE(n.start_worker("mine", services::echoer{}, mine));
  worker_options open;
  open.reach = reach::any_origin;
  REQUIRE(n.start_worker("open", services::echoer{}, open));
  n.create_context().expose("flow.x", "mine");

  CHECK_FALSE(arrive(n, route{"mine"}, origin("flow.x")));
  CHECK(logs.eventually_contains("'mine' refused a message from test flow: it accepts messages from this node only"));
  CHECK(arrive(n, route{"mine"}, nullptr));
  CHECK(arrive(n, route{"open"}, origin("flow.anything")));
}

TEST_CASE("who sends through a flow's producer gets that flow's replies, and nobody else does") {
  auto n = node::create({.threads = 2});
  auto connection = origin("flow.conn");
  worker_options producer;
  producer.reach = reach::any_origin;
  producer.produces = connection;
  // The "connection": passes what it gets on (to "sink", a local stand-in for the socket).
  REQUIRE(n.start_worker("conn", passer{}, producer));
  REQUIRE(n.start_worker("sink", services::echoer{}));  // answers along the return route
  auto asker = n.create_context("asker.");
  auto bystander = n.create_context("bystander.");

  // asker -> conn -> sink, made here: asker is now reachable from flow.conn.
  REQUIRE(n.block_on([&](context&) { return asker.send(route{"conn", "sink"}, std::string("q")); }));
  REQUIRE(n.block_on([&](context&) { return asker.receive<std::string>(5s); }));
  CHECK(asker.exposures(asker.address()) == std::vector<std::string>{"flow.conn"});
  CHECK(arrive(n, route{asker.address()}, connection));
  CHECK_FALSE(arrive(n, route{bystander.address()}, connection));
  CHECK_FALSE(arrive(n, route{asker.address()}, origin("flow.other")));
}

TEST_CASE("refusals are logged at a bounded rate, and the rest counted") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) CHECK_FALSE(arrive(n, route{"echoer"}, origin("flow.flood")));
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  std::size_t lines = 0;
  for (auto at = logs.text().find("refused a message"); at != std::string::npos;
       at = logs.text().find("refused a message", at + 1))
    ++lines;
  // At most 20 in each one-second window the loop touched (however slowly it ran).
  CHECK(lines <= 20 * static_cast<std::size_t>(seconds.count() + 2));
  CHECK(lines < 200);
  CHECK(lines >= 1);
}
