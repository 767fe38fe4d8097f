#include "nodus/core/address.hpp"
#include <set>

#include <doctest/doctest.h>

using nodus::address;

TEST_CASE("a bare name parses as a local address") {
  auto a = address::parse("echoer");
  REQUIRE(a);
  CHECK(a.value().is_local());
  CHECK(a.value().value() == "echoer");
  CHECK(a.value().to_string() == "echoer");
}

TEST_CASE("a typed address parses and prints back") {
  auto a = address::parse("1#127.0.0.1:4000");
  REQUIRE(a);
  CHECK(a.value().type() == 1);
  CHECK(a.value().value() == "127.0.0.1:4000");
  CHECK(a.value().to_string() == "1#127.0.0.1:4000");
  CHECK(address::parse(a.value().to_string()).value() == a.value());
}

TEST_CASE("a local value containing '#' round-trips through its explicit type") {
  const address a(address::local_type, "odd#name");
  CHECK(a.to_string() == "0#odd#name");
  CHECK(address::parse(a.to_string()).value() == a);
}

TEST_CASE("malformed address texts are refused") {
  for (const char* text : {"", " ", "a b", "x#y", "256#h:1", "7#h:1", "1#", "#a", "1234#a", "-1#a", "a=>b", "1# a"}) {
    CAPTURE(text);
    auto a = address::parse(text);
    REQUIRE_FALSE(a);
    CHECK(a.error() == nodus::errc::invalid_address);
    CHECK(a.error() == nodus::condition::invalid_argument);
  }
  CHECK_FALSE(address::parse(std::string(nodus::max_address_length + 1, 'a')));
}

TEST_CASE("random local addresses are distinct and keep their prefix") {
  auto a = address::random_local("reply.");
  auto b = address::random_local("reply.");
  CHECK(a != b);
  CHECK(a.is_local());
  CHECK(a.value().rfind("reply.", 0) == 0);
}

TEST_CASE("addresses format through fmt") { CHECK(fmt::format("{}", address(1, "h:1")) == "1#h:1"); }

TEST_CASE("an address made in code with unprintable bytes is escaped when logged") {
  CHECK(fmt::format("{}", address("line\nbreak")) == "line\\x0abreak");
  CHECK(fmt::format("{}", address("back\\slash")) == "back\\x5cslash");
  CHECK(fmt::format("{}", address("plain.name")) == "plain.name");
  CHECK_FALSE(address::valid_value("line\nbreak"));
  CHECK(address::valid_value("tcp.in.0123abcd"));
}

TEST_CASE("random addresses are 16 hex digits from the CSPRNG, all different") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto a = address::random_local("p.");
    CHECK(a.value().size() == 2 + 16);
    CHECK(a.value().find_first_not_of("0123456789abcdef", 2) == std::string::npos);
    seen.insert(a.value());
  }
  CHECK(seen.size() == 1000);
}
