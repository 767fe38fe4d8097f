// The members-only relays' rules without I/O (relay/src/name_bindings.hpp): what a credential's
// relay attribute allows, and the bindings' file read back totally (anything else is refused).

#include <doctest/doctest.h>

#include "name_bindings.hpp"

using namespace nodus;
using namespace nodus::relay::detail;

namespace {

const std::string bob_id = "I" + std::string(40, 'b');
const std::string alice_id = "I" + std::string(40, 'a');

policy::subject with_relay(std::string id, std::optional<std::string> relay) {
  policy::subject s{std::move(id), {{"project", "I" + std::string(40, 'c')}}};
  if (relay) s.attributes["relay"] = *relay;
  return s;
}

}  // namespace

TEST_CASE("the relay attribute: '*' allows any name and random ones, a name only itself, none nothing") {
  CHECK(relay_attribute_refusal(with_relay(bob_id, "*"), "bob").empty());
  CHECK(relay_attribute_refusal(with_relay(bob_id, "*"), "").empty());
  CHECK(relay_attribute_refusal(with_relay(bob_id, "bob"), "bob").empty());
  CHECK(relay_attribute_refusal(with_relay(alice_id, "alice"), "bob") ==
        "relay name 'bob' is not allowed by the credential of " + alice_id + ": its relay attribute is 'alice'");
  CHECK(relay_attribute_refusal(with_relay(alice_id, std::nullopt), "bob") ==
        "relay name 'bob' is not allowed by the credential of " + alice_id + ": it has no relay attribute");
  CHECK(relay_attribute_refusal(with_relay(alice_id, "alice"), "") ==
        "a random relay name is allowed only by a credential whose relay attribute is '*'; the credential of " +
            alice_id + " is not: its relay attribute is 'alice'");
  // What a credential says is escaped before it reaches a refusal (and the log).
  CHECK(relay_attribute_refusal(with_relay(alice_id, "a\nb"), "bob").find("'a\\x0ab'") != std::string::npos);
}

TEST_CASE("the bindings' file: written and read back; anything else is refused with the reason") {
  const std::map<std::string, std::string> owners{{"alice", alice_id}, {"bob", bob_id}};
  auto back = parse_bindings(bindings_text(owners));
  REQUIRE(back);
  CHECK(back.value() == owners);
  CHECK(parse_bindings(bindings_text({})).value().empty());

  const char* refused[] = {
      "",
      "[]",
      "{\"version\": 2, \"names\": {}}",
      "{\"version\": 1}",
      "{\"version\": 1, \"names\": []}",
      "{\"version\": 1, \"names\": {\"no spaces\": \"Ibbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}",
      "{\"version\": 1, \"names\": {\"bob\": \"bob\"}}",
      "{\"version\": 1, \"names\": {\"bob\": 7}}",
      "{\"version\": 1, \"names\": {\"bob\": \"IBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\"}}",
      "{\"version\": 1, \"names\": {\"a\": {\"b\": {\"c\": {\"d\": 1}}}}}",
  };
  for (const auto* text : refused) {
    CAPTURE(text);
    auto parsed = parse_bindings(text);
    REQUIRE_FALSE(parsed);
    CHECK_FALSE(parsed.error().message().empty());
  }
}

TEST_CASE("a name is bound once; the hub keeps at most max_names of them") {
  name_bindings names;
  CHECK(names.owner("bob").empty());
  REQUIRE(names.bind("bob", bob_id, 2));
  CHECK(names.owner("bob") == bob_id);
  REQUIRE(names.bind("alice", alice_id, 2));
  auto full = names.bind("carol", alice_id, 2);
  REQUIRE_FALSE(full);
  CHECK(full.error().message() == "this hub keeps at most 2 relay names, and has them all");
  CHECK(names.owner("carol").empty());
}
