#include "nodus/core/route.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using nodus::address;
using nodus::route;

TEST_CASE("a route parses, prints and parses back to the same route") {
  auto r = route::parse("a => 1#127.0.0.1:4000 =>b");
  REQUIRE(r);
  REQUIRE(r.value().size() == 3);
  CHECK(r.value()[0] == address("a"));
  CHECK(r.value()[1] == address(1, "127.0.0.1:4000"));
  CHECK(r.value()[2] == address("b"));
  CHECK(r.value().to_string() == "a => 1#127.0.0.1:4000 => b");
  CHECK(route::parse(r.value().to_string()).value() == r.value());
}

TEST_CASE("malformed route texts are refused") {
  for (const char* text : {"", "=>", "a =>", "=> a", "a => => b", "a => x#y", "a b => c", "a =>=> b"}) {
    CAPTURE(text);
    auto r = route::parse(text);
    REQUIRE_FALSE(r);
    CHECK(r.error() == nodus::errc::invalid_route);
  }
}

TEST_CASE("an over-long route is refused") {
  std::string text = "a";
  for (std::size_t i = 0; i < nodus::max_route_length; ++i) text += " => a";
  CHECK_FALSE(route::parse(text));
}

TEST_CASE("step, prepend and append move hops the way a hop does") {
  route onward{"hop", "echoer"};
  route back{"app"};
  auto first = onward.step();
  REQUIRE(first);
  CHECK(first.value() == address("hop"));
  back.prepend(first.value());
  CHECK(onward.to_string() == "echoer");
  CHECK(back.to_string() == "hop => app");
  CHECK(onward.next() == address("echoer"));
  onward.append(route{"x", "y"}).append(address("z"));
  CHECK(onward.to_string() == "echoer => x => y => z");
}

TEST_CASE("stepping an empty route is an error, not a crash") {
  route r;
  auto s = r.step();
  REQUIRE_FALSE(s);
  CHECK(s.error() == nodus::errc::empty_route);
}

TEST_CASE("routes made on one thread and freed on another keep their hops (pooled hop storage)") {
  // Hop storage is pooled per thread (detail/hop_allocator.hpp): a block freed on a thread goes
  // to that thread's pool, a pool is bounded, and a thread's pool is freed when it ends. Routes
  // of every pooled size and past it, more than a pool keeps, cross threads both ways.
  std::vector<route> made;
  for (int i = 0; i < 5000; ++i) {
    route r;
    for (int hop = 0; hop <= i % 9; ++hop) r.append(address("hop" + std::to_string(hop)));
    made.push_back(std::move(r));
  }
  std::vector<route> remade;
  std::thread other([&] {
    for (const auto& r : made) remade.push_back(route(r));  // copies allocated on `other`
    made.clear();                                           // blocks of this thread freed on `other`
  });
  other.join();  // `other`'s pool is freed as it ends
  REQUIRE(remade.size() == 5000);
  for (std::size_t i = 0; i < remade.size(); ++i) {
    REQUIRE(remade[i].size() == i % 9 + 1);
    CHECK(remade[i][remade[i].size() - 1] == address("hop" + std::to_string(i % 9)));
  }
  remade.clear();  // freed here, into this thread's pool up to its bound
  route again{"a", "b"};
  CHECK(again.to_string() == "a => b");
}
