// The ticket's one-line text: round trip, and clear refusals.
#include <doctest/doctest.h>

#include "nodus/authority/ticket.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus;
using namespace nodus::authority;

TEST_CASE("a ticket's text is one line that parses back to the same ticket") {
  auto id = vault::identity::create(vault::vault::create_in_memory()).value();
  enrollment_ticket t{id.id(), id.history().encode(), "1#127.0.0.1:4000 => listener => authority",
                      std::string(64, 'a')};
  const auto text = ticket_text(t);
  CHECK(text.starts_with(ticket_prefix));
  CHECK(text.find_first_of(" \n=+/") == std::string::npos);
  auto back = parse_ticket("  " + text + "\n");
  REQUIRE_MESSAGE(back, back.error().message());
  CHECK(back.value().authority == t.authority);
  CHECK(back.value().history == t.history);
  CHECK(back.value().route == t.route);
  CHECK(back.value().secret == t.secret);
  t.history.clear();
  CHECK(parse_ticket(ticket_text(t)));  // the history is optional
}

TEST_CASE("a ticket that is not one is refused, saying which part") {
  auto id = vault::identity::create(vault::vault::create_in_memory()).value();
  auto other = vault::identity::create(vault::vault::create_in_memory()).value();
  const enrollment_ticket good{id.id(), id.history().encode(), "authority", std::string(64, 'f')};
  auto reason = [](std::string_view text) {
    auto r = parse_ticket(text);
    REQUIRE_FALSE(r);
    return r.error().reason;
  };
  CHECK(reason("").find("does not start with 'nodus-ticket-v1.'") != std::string::npos);
  CHECK(reason("nodus-ticket-v1.*").find("not base64url") != std::string::npos);
  CHECK(reason("nodus-ticket-v1.AAAA").find("not one msgpack value") != std::string::npos);
  CHECK(reason("nodus-ticket-v1.kQI").find("[1, authority, history, route, secret]") != std::string::npos);
  auto with = [&](auto change) {
    enrollment_ticket t = good;
    change(t);
    return ticket_text(t);
  };
  CHECK(reason(with([](auto& t) { t.authority = "bob"; })).find("not an identifier") != std::string::npos);
  CHECK(reason(with([&](auto& t) { t.history = other.history().encode(); })).find("not of " + id.id()) !=
        std::string::npos);
  CHECK(reason(with([](auto& t) { t.history = {1, 2, 3}; })).find("does not decode") != std::string::npos);
  CHECK(reason(with([](auto& t) { t.route = "a =>  => b"; })).find("route") != std::string::npos);
  CHECK(reason(with([](auto& t) { t.secret = "abc"; })).find("64 hex digits") != std::string::npos);
  CHECK(reason(std::string(ticket_prefix) + std::string(40000, 'A')).find("over 32 KiB") != std::string::npos);
  CHECK(base64url_decode("AA") == bytes{0});
  CHECK_FALSE(base64url_decode("AB"));  // non-canonical trailing bits
}
