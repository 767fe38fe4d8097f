// The records of a members-only hub's stream owners' topic (stream_kafka/owners.hpp): read back
// totally, since they come from the cluster; who a stream admits.

#include <doctest/doctest.h>

#include "nodus/stream_kafka/owners.hpp"

using namespace nodus;
using namespace nodus::stream_kafka;

namespace {

const std::string bob = "I" + std::string(40, 'b');
const std::string alice = "I" + std::string(40, 'a');

bool refused(const owner_record& r) { return !decode_owner_record(encode_owner_record(r)); }

}  // namespace

TEST_CASE("owner records: written and read back; anything but a valid record is refused") {
  const owner_record record{1, "bob-to-alice", bob, {alice}};
  auto back = decode_owner_record(encode_owner_record(record));
  REQUIRE(back);
  CHECK(back.value().stream == record.stream);
  CHECK(back.value().owner == bob);
  CHECK(back.value().parties == std::vector<std::string>{alice});

  CHECK(refused({2, "bob-to-alice", bob, {}}));
  CHECK(refused({1, "__nodus_stream_owners", bob, {}}));
  CHECK(refused({1, "no spaces", bob, {}}));
  CHECK(refused({1, "bob-to-alice", "bob", {}}));
  CHECK(refused({1, "bob-to-alice", "I" + std::string(40, 'B'), {}}));
  CHECK(refused({1, "bob-to-alice", bob, {"alice"}}));
  CHECK(refused({1, "bob-to-alice", bob, std::vector<std::string>(stream::max_stream_parties + 1, alice)}));
  for (const auto* garbage : {"", "\x91", "\x94\x01\xa1x", "not msgpack at all"}) {
    CAPTURE(garbage);
    const std::string text(garbage);
    CHECK_FALSE(decode_owner_record(as_bytes(std::string_view(text))));
  }
}

TEST_CASE("a stream admits its owner and its parties, nobody else, and never the empty identifier") {
  const stream_owner o{bob, {alice}};
  CHECK(o.admits(bob));
  CHECK(o.admits(alice));
  CHECK_FALSE(o.admits("I" + std::string(40, 'c')));
  CHECK_FALSE(o.admits(""));
}
