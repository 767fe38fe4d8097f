// A members-only hub's relays, over loopback TCP between nodes: a registration goes through the
// registrant's member channel to the hub, the name must be allowed by its credential's relay
// attribute, and it belongs to the first identity that took it, even after that identity's
// connection is gone. Alice then reaches Bob's node, and only his, through the relay.

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include "hub_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

task<result_or_failure<sc::channel>> channel_task(context& ctx, route to, sc::options o) {
  co_return co_await sc::create_secure_channel(ctx, std::move(to), std::move(o));
}

// Alice's end-to-end channel through the hub's relay to `listener` on the relay's client,
// trusting only `expected`.
result_or_failure<sc::channel> channel_through_relay(tcp_node& alice, const std::string& hub, const std::string& name,
                                                     const vault::identifier& expected) {
  sc::options o{.identity = new_channel_identity(), .trust = sc::trust_policy::identifier(expected)};
  o.handshake_timeout = 3s;
  route to{tcp(hub), address("forward_to_" + name), "listener"};
  return alice.n.block_on([&](context& ctx) { return channel_task(ctx, to, o); });
}

std::string tag_through_relay(tcp_node& from, const std::string& hub, const std::string& name) {
  auto reply = echo(from.n, route{tcp(hub), address("forward_to_" + name), "tag"}, "who are you?", 3s);
  return reply ? reply.value().body() : "(no answer: " + reply.error().message() + ")";
}

}  // namespace

TEST_CASE("relay takeover: after Bob's connection drops nobody else may take 'bob'; Bob may, and Alice reaches him") {
  hub_fixture f;
  auto bob = f.member("bob", {.relay = "bob"});
  auto bob_channel = f.member_channel(*bob);
  REQUIRE_MESSAGE(bob_channel, bob_channel.error().message());
  auto bob_relay = start_relay(*bob, through(bob_channel.value(), "forwarding_service"), "bob");
  REQUIRE(eventually([&] { return registered(*bob_relay); }));
  CHECK(f.hub.logs.eventually_contains("relay: name 'bob' is bound to " + bob->id()));
  CHECK(f.hub.logs.eventually_contains("(the secure channel it registered through)"));
  tcp_node alice;
  CHECK(tag_through_relay(alice, f.hub.bound, "bob") == "bob");

  // Bob's host goes away: his connection drops. He keeps his identity and credential.
  const auto bob_id = bob->id();
  auto bob_again = f.restarted(*bob, "bob, restarted");
  bob.reset();

  // A member whose credential allows any relay name, through its own member channel.
  auto mallory = f.member("mallory", {.relay = "*"});
  auto mallory_channel = f.member_channel(*mallory);
  REQUIRE(mallory_channel);
  auto taken = start_relay(*mallory, through(mallory_channel.value(), "forwarding_service"), "bob");
  CHECK(refused_with(*taken, "relay name 'bob' belongs to " + bob_id));

  // A stranger: no member channel; through the hub's open listener; over plain TCP.
  auto eve = f.stranger("eve");
  auto no_channel = f.member_channel(*eve);
  CHECK_FALSE(no_channel);
  auto eve_channel = f.open_channel(*eve);
  REQUIRE(eve_channel);
  auto via_open = start_relay(*eve, through(eve_channel.value(), "forwarding_service"), "bob");
  CHECK(refused_with(*via_open, eve->id() +
                                    " (no credential) is not allowed by the policy of the relay service: "
                                    "subject.project = \"" +
                                    f.project->trusted().id + "\""));
  auto via_tcp = start_relay(*eve, route{tcp(f.hub.bound), "forwarding_service"}, "bob", {"tag"}, "relay_client.tcp");
  CHECK(refused_with(*via_tcp, "this hub's relays are for members only: register through a secure channel"));
  CHECK(f.hub.logs.eventually_contains("relay: registration of 'bob' refused: relay name 'bob' belongs to " + bob_id));

  // Bob, back on another node, registers his name again; Alice reaches that node, and through
  // an end-to-end channel proves it is Bob's identity there.
  REQUIRE(bob_again->net.n.block_on([&](context& ctx) {
    sc::options o{.identity = bob_again->identity, .trust = sc::trust_policy::everyone()};
    o.expose = {"tag"};
    return sc::create_secure_channel_listener(ctx, "listener", o);
  }));
  auto again_channel = f.member_channel(*bob_again);
  REQUIRE(again_channel);
  auto again =
      start_relay(*bob_again, through(again_channel.value(), "forwarding_service"), "bob", {"tag", "listener"});
  REQUIRE(eventually([&] { return registered(*again); }));
  CHECK(tag_through_relay(alice, f.hub.bound, "bob") == "bob, restarted");
  auto to_bob = channel_through_relay(alice, f.hub.bound, "bob", bob_id);
  REQUIRE_MESSAGE(to_bob, to_bob.error().message());
  auto through_channel = echo(alice.n, route{to_bob.value().address(), "tag"});
  REQUIRE(through_channel);
  CHECK(through_channel.value().body() == "bob, restarted");

  // The others never held the name.
  CHECK(taken->status().registrations == 0);
  CHECK(via_open->status().registrations == 0);
  CHECK(via_tcp->status().registrations == 0);
}

TEST_CASE("a relay name the credential does not allow is refused, saying what the credential allows") {
  hub_fixture f;
  auto alice = f.member("alice", {.relay = "alice"});
  auto alice_channel = f.member_channel(*alice);
  REQUIRE(alice_channel);
  const auto service = through(alice_channel.value(), "forwarding_service");
  auto not_hers = start_relay(*alice, service, "bob", {"tag"}, "relay.bob");
  CHECK(refused_with(*not_hers, "relay name 'bob' is not allowed by the credential of " + alice->id() +
                                    ": its relay attribute is 'alice'"));
  auto random = start_relay(*alice, service, "", {"tag"}, "relay.random");
  CHECK(refused_with(*random, "a random relay name is allowed only by a credential whose relay attribute is '*'"));
  auto hers = start_relay(*alice, service, "alice", {"tag"}, "relay.alice");
  CHECK(eventually([&] { return registered(*hers); }));

  auto carol = f.member("carol", {});  // her ticket allowed no relay
  auto carol_channel = f.member_channel(*carol);
  REQUIRE(carol_channel);
  auto none = start_relay(*carol, through(carol_channel.value(), "forwarding_service"), "carol");
  CHECK(refused_with(
      *none, "relay name 'carol' is not allowed by the credential of " + carol->id() + ": it has no relay attribute"));
}

TEST_CASE("a random name is for relay=* members only, and is bound to its registrant like any other") {
  hub_fixture f;
  auto dave = f.member("dave", {.relay = "*"});
  auto dave_channel = f.member_channel(*dave);
  REQUIRE(dave_channel);
  auto anonymous = start_relay(*dave, through(dave_channel.value(), "forwarding_service"), "");
  REQUIRE(eventually([&] { return anonymous->status().registrations >= 2; }));
  const auto relay = anonymous->status().relay;
  REQUIRE(relay.size() == std::string("forward_to_").size() + 32);
  const auto name = relay.substr(std::string("forward_to_").size());
  CHECK(f.hub.logs.eventually_contains("relay: name '" + name + "' is bound to " + dave->id()));
  tcp_node alice;
  CHECK(tag_through_relay(alice, f.hub.bound, name) == "dave");

  auto mallory = f.member("mallory", {.relay = "*"});
  auto mallory_channel = f.member_channel(*mallory);
  REQUIRE(mallory_channel);
  auto copy = start_relay(*mallory, through(mallory_channel.value(), "forwarding_service"), name);
  CHECK(refused_with(*copy, "relay name '" + name + "' belongs to " + dave->id()));
}

TEST_CASE("the names' owners survive a restart of the forwarding service, in a private file") {
  const auto dir = std::filesystem::temp_directory_path() / ("nodus-relay-names-" + stream::unique_name("t"));
  hub_fixture f({.relay_state = dir});
  auto bob = f.member("bob", {.relay = "*"});
  auto bob_channel = f.member_channel(*bob);
  REQUIRE(bob_channel);
  auto bob_relay = start_relay(*bob, through(bob_channel.value(), "forwarding_service"), "bob");
  REQUIRE(eventually([&] { return registered(*bob_relay); }));
  const auto file = dir / "relay_names.json";
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(file);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  CHECK(text.find("\"bob\": \"" + bob->id() + "\"") != std::string::npos);

  // Bob stops; the hub's forwarding service restarts with the same directory, knowing no relay.
  REQUIRE(bob->net.n.stop_worker("relay_client"));
  for (const auto* worker : {"forwarding_service", "forwarding_service.sweeper", "forward_to_bob"})
    REQUIRE(f.hub.n.stop_worker(worker));
  REQUIRE(f.start_forwarding());
  CHECK(f.hub.logs.eventually_contains("relay: members only (1 name(s) bound)"));

  auto mallory = f.member("mallory", {.relay = "*"});
  auto mallory_channel = f.member_channel(*mallory);
  REQUIRE(mallory_channel);
  auto taken = start_relay(*mallory, through(mallory_channel.value(), "forwarding_service"), "bob");
  CHECK(refused_with(*taken, "relay name 'bob' belongs to " + bob->id()));
  auto back = start_relay(*bob, through(bob_channel.value(), "forwarding_service"), "bob", {"tag"}, "relay_client.2");
  CHECK(eventually([&] { return registered(*back); }));
  std::filesystem::remove_all(dir);
}
