// An address made from text in code (`address("1#127.0.0.1:4000")`, `route{"1#h:1", "echoer"}`)
// reads the text as `parse` does, and refuses a malformed typed address loudly.
#include <ostream>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "nodus/core/address.hpp"
#include "nodus/core/route.hpp"

using nodus::address;

TEST_CASE("a typed text makes a typed address, not a local name") {
  const address a("1#127.0.0.1:4000");
  CHECK(a.type() == address::tcp_type);
  CHECK(a.value() == "127.0.0.1:4000");
  CHECK_FALSE(a.is_local());
  CHECK(a == address::parse("1#127.0.0.1:4000").value());
  CHECK(address(std::string("1#h:1")) == address(address::tcp_type, "h:1"));
  CHECK(address(std::string_view("0#odd#name")) == address(address::local_type, "odd#name"));
}

TEST_CASE("a route written as texts reads each hop's type") {
  const nodus::route r{"1#127.0.0.1:4000", "echoer"};
  CHECK(r.next().type() == address::tcp_type);
  CHECK(r.to_string() == "1#127.0.0.1:4000 => echoer");
}

TEST_CASE("a name without '#' stays local, as it is") {
  const address a("echoer");
  CHECK(a.is_local());
  CHECK(a.value() == "echoer");
  CHECK(address(std::string("forward_to_bob")) == address(address::local_type, "forward_to_bob"));
}

TEST_CASE("a malformed typed text throws nodus::error with errc::invalid_address") {
  for (const char* text : {"1#", "x#y", "#a", "7#h:1", "256#h:1", "1234#a", "-1#a", "1# a", "1#a=>b"}) {
    CAPTURE(text);
    CHECK_THROWS_AS(address{text}, nodus::error);
    try {
      const address a(text);
      FAIL("accepted " << a.to_string());
    } catch (const nodus::error& e) {
      CHECK(e.code() == nodus::errc::invalid_address);
      CHECK(e.code() == nodus::condition::invalid_argument);
      CHECK(std::string(e.what()).find(std::string("'") + text + "' is not an address") != std::string::npos);
    }
  }
}

TEST_CASE("the error of a malformed text is a std::system_error too, and escapes what it quotes") {
  try {
    const address a(std::string("x#\n"));
    FAIL("accepted " << a.to_string());
  } catch (const std::system_error& e) {
    CHECK(e.code() == nodus::errc::invalid_address);
    CHECK(std::string(e.what()).find("'x#\\x0a'") != std::string::npos);
  }
}

TEST_CASE("only the types this build knows are typed texts") {
  CHECK(address::known_type(address::local_type));
  CHECK(address::known_type(address::tcp_type));
  CHECK_FALSE(address::known_type(2));
  // Other types can still be made in code, for transports of one's own.
  CHECK(address(2, "x").to_string() == "2#x");
}
