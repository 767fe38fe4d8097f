// A member revoked by its authority (deleted, so its credential is not refreshed) over loopback
// TCP: once its credential lapses, the hub's member channel drops what it sends, so its relay is
// no longer renewed and goes after its lease, and its stream requests get no answer; a new
// channel is refused. Another member, whose credential is refreshed, carries on.

#include <doctest/doctest.h>

#include "hub_fixture.hpp"

using namespace nodus;
using namespace nodus::test;
using kind = stream::stream_request::kind_t;

namespace {

task<result_or_failure<bytes>> current_credential(std::shared_ptr<au::credential_keeper> k) {
  co_return co_await k->current();
}

}  // namespace

TEST_CASE("a revoked member's credential lapses: the relay and the streams refuse it, other members carry on") {
  hub_fixture f({.relay_lease = 1s});
  auto bob = f.member("bob", {.relay = "bob"});
  auto alice = f.member("alice", {});
  auto bob_channel = f.member_channel(*bob);
  auto alice_channel = f.member_channel(*alice);
  REQUIRE(bob_channel);
  REQUIRE(alice_channel);
  auto bob_relay = start_relay(*bob, through(bob_channel.value(), "forwarding_service"), "bob");
  REQUIRE(eventually([&] { return registered(*bob_relay); }));
  tcp_node sender;
  auto before = echo(sender.n, route{tcp(f.hub.bound), "forward_to_bob", "tag"});
  REQUIRE(before);
  CHECK(before.value().body() == "bob");
  auto for_alice = stream_request(kind::create, "bob-inbox");
  for_alice.parties = {alice->id()};
  REQUIRE_FALSE(ask(*bob, through(bob_channel.value(), "stream_kafka"), for_alice).value().error);
  REQUIRE_FALSE(ask(*bob, through(bob_channel.value(), "stream_kafka"), stream_request(kind::push, "bob-inbox", "1"))
                    .value()
                    .error);

  // The administrator deletes Bob; an hour later his last credential has lapsed.
  REQUIRE(f.project->store()->delete_member(bob->id()).value());
  f.clock.advance(std::chrono::minutes(61));
  CHECK(f.hub.logs.eventually_contains("the credential of " + bob->id() + " has expired"));

  // The relay: his pings are dropped, so it goes once its lease is over.
  CHECK(f.hub.logs.eventually_contains("relay: 'forward_to_bob' removed: its client has not renewed it for 1000 ms",
                                       10s));
  auto after = echo(sender.n, route{tcp(f.hub.bound), "forward_to_bob", "tag"}, "anyone?", 2s);
  REQUIRE_FALSE(after);
  CHECK(after.error() == errc::unknown_address);
  CHECK(eventually([&] { return bob_relay->status().now == relay::relay_status::state::retrying; }));

  // The streams: nothing he sends reaches them.
  CHECK_FALSE(
      ask(*bob, through(bob_channel.value(), "stream_kafka"), stream_request(kind::push, "bob-inbox", "2"), 1s));
  CHECK_FALSE(ask(*bob, through(bob_channel.value(), "stream_kafka"), stream_request(kind::pull, "bob-inbox"), 1s));

  // He cannot get a fresh credential, nor a new channel with the one he has.
  auto refreshed = bob->net.n.block_on([&](context&) { return current_credential(bob->keeper); });
  REQUIRE_FALSE(refreshed);
  CHECK(refreshed.error().code == au::enrollment_error::not_a_member);
  CHECK_FALSE(f.member_channel(*bob));

  // Alice, still a member, refreshes hers (presented inside her channel) and reads Bob's stream.
  REQUIRE(alice->net.n.block_on([&](context&) { return current_credential(alice->keeper); }));
  auto read = ask(*alice, through(alice_channel.value(), "stream_kafka"), stream_request(kind::pull, "bob-inbox"));
  REQUIRE(read);
  CHECK_FALSE(read.value().error);
  CHECK(read.value().messages.size() == 1);
}
