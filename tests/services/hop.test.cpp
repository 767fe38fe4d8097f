#include "nodus/services/hop.hpp"

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"

using namespace nodus;
using namespace std::chrono_literals;

TEST_CASE("a route through three hops reaches the echoer and the reply comes back through them") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  for (const char* h : {"h1", "h2", "h3"}) REQUIRE(n.start_worker(h, services::hop{}));

  auto reply = n.block_on([](context& ctx) -> task<result<routed<std::string>>> {
    if (auto sent = co_await ctx.send(route{"h1", "h2", "h3", "echoer"}, std::string("round trip")); !sent)
      co_return sent.error();
    co_return co_await ctx.receive<std::string>(5s);
  });
  REQUIRE(reply);
  CHECK(reply.value().body() == "round trip");
  // The reply went echoer -> h3 -> h2 -> h1 -> us; each hop pushed itself on the return route.
  CHECK(reply.value().return_route() == route{"h1", "h2", "h3", "echoer"});
}

TEST_CASE("a hop at the end of a route logs and drops instead of crashing") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("h1", services::hop{}));
  REQUIRE(n.block_on([](context& ctx) { return ctx.send(route{"h1"}, std::string("nowhere")); }));
  auto later = n.send_and_receive<std::string>(route{"h1", "missing"}, std::string("x"), 100ms);
  CHECK(later.error() == errc::timeout);
  CHECK(logs.eventually_contains("no worker at address 'missing'"));
  CHECK(logs.eventually_contains("empty onward route"));
}
