// A members-only hub's streams, over loopback TCP between nodes: Bob creates his two streams
// for Alice through his member channel; Alice and Bob talk through them; Mallory, a member too,
// and Eve, a stranger, are refused every push, pull, readers question, create and index change
// on them, with a reason, and nothing they tried changed the stream or Bob's index. Ownership
// survives a restart of the stream services on the same cluster.

#include <doctest/doctest.h>

#include "hub_fixture.hpp"

using namespace nodus;
using namespace nodus::test;
using kind = stream::stream_request::kind_t;
using index_kind = stream::index_request::kind_t;

namespace {

// Bob's and Alice's members, channels and connected streams.
struct alice_and_bob {
  explicit alice_and_bob(hub_fixture& f) {
    bob = f.member("bob", {});
    alice = f.member("alice", {});
    auto b = f.member_channel(*bob);
    auto a = f.member_channel(*alice);
    REQUIRE(b);
    REQUIRE(a);
    bob_channel.emplace(b.value());
    alice_channel.emplace(a.value());
    auto bs = connect(*bob, *bob_channel, "bob-to-alice", "alice-to-bob", {alice->id()}, "bob");
    REQUIRE_MESSAGE(bs, bs.error().message());
    bob_stream = bs.value();
    auto as = connect(*alice, *alice_channel, "alice-to-bob", "bob-to-alice", {bob->id()}, "alice");
    REQUIRE_MESSAGE(as, as.error().message());
    alice_stream = as.value();
  }

  /// Alice's message through her stream to Bob's tag, and its answer back through Bob's.
  std::string alice_asks_bob(const std::string& text) {
    auto reply = echo(alice->net.n, route{alice_stream->sender(), "tag"}, text, 15s);
    return reply ? reply.value().body() : "(no answer: " + reply.error().message() + ")";
  }

  std::unique_ptr<member_node> bob, alice;
  std::optional<sc::channel> bob_channel, alice_channel;
  std::optional<stream::connected_stream> bob_stream, alice_stream;
};

// The reply's error, checked to be `forbidden` with `reason` in it.
bool forbidden(const stream::stream_error& e, const std::string& reason) {
  if (e.code == stream::stream_errc::forbidden && e.reason.find(reason) != std::string::npos) return true;
  MESSAGE("code " << static_cast<int>(e.code) << ": " << e.reason);
  return false;
}

}  // namespace

TEST_CASE("stream hijack: a member the stream is not for is refused push, pull, readers, create and index changes") {
  hub_fixture f;
  alice_and_bob p(f);
  REQUIRE(p.alice_asks_bob("hello bob") == "bob");
  REQUIRE(eventually([&] { return p.bob_stream->status().saved_index == 1; }));

  auto mallory = f.member("mallory", {});
  auto mallory_channel = f.member_channel(*mallory);
  REQUIRE(mallory_channel);
  const auto streams = through(mallory_channel.value(), "stream_kafka");
  const auto indexes = through(mallory_channel.value(), "stream_kafka_index");
  const auto not_for_mallory = "stream 'alice-to-bob' belongs to " + p.bob->id() + ", and is not for " + mallory->id();

  auto push = ask(*mallory, streams, stream_request(kind::push, "alice-to-bob", "evil"));
  REQUIRE(push);
  CHECK(forbidden(push.value().error, not_for_mallory));
  auto pull_request = stream_request(kind::pull, "alice-to-bob");
  auto pull = ask(*mallory, streams, pull_request);
  REQUIRE(pull);
  CHECK(forbidden(pull.value().error, not_for_mallory));
  CHECK(pull.value().messages.empty());
  auto readers = ask(*mallory, streams, stream_request(kind::readers, "alice-to-bob"));
  REQUIRE(readers);
  CHECK(forbidden(readers.value().error, not_for_mallory));
  auto create_request = stream_request(kind::create, "alice-to-bob");
  create_request.parties = {mallory->id()};
  auto create = ask(*mallory, streams, create_request);
  REQUIRE(create);
  CHECK(forbidden(create.value().error, not_for_mallory));
  auto reset = ask(*mallory, indexes, index_request(index_kind::save, "alice-to-bob", "bob", 0));
  REQUIRE(reset);
  CHECK(forbidden(reset.value().error, not_for_mallory));
  auto peek = ask(*mallory, indexes, index_request(index_kind::get, "alice-to-bob", "bob"));
  REQUIRE(peek);
  CHECK(forbidden(peek.value().error, not_for_mallory));
  CHECK(f.hub.logs.eventually_contains("refused: " + not_for_mallory));

  // Her stream client cannot connect to Bob's streams either, and says why at once.
  auto hijack = connect(*mallory, mallory_channel.value(), "alice-to-bob", "bob-to-alice", {}, "bob");
  REQUIRE_FALSE(hijack);
  CHECK(hijack.error().code == errc::access_denied);
  CHECK(hijack.error().message().find("forbidden: stream 'alice-to-bob' belongs to " + p.bob->id()) !=
        std::string::npos);

  // A member she is: her own stream is hers.
  auto own = ask(*mallory, streams, stream_request(kind::create, "mallory-notes"));
  REQUIRE(own);
  CHECK_FALSE(own.value().error);

  // A stranger, over plain TCP and through the open listener.
  auto eve = f.stranger("eve");
  auto plain = ask(*eve, route{tcp(f.hub.bound), "stream_kafka"}, stream_request(kind::push, "alice-to-bob", "evil"));
  REQUIRE(plain);
  CHECK(forbidden(plain.value().error, "this hub's stream service is for members only: send through a secure channel"));
  auto eve_channel = f.open_channel(*eve);
  REQUIRE(eve_channel);
  auto via_open = ask(*eve, through(eve_channel.value(), "stream_kafka_index"),
                      index_request(index_kind::save, "alice-to-bob", "bob", 0));
  REQUIRE(via_open);
  CHECK(forbidden(via_open.value().error,
                  eve->id() + " (no credential) is not allowed by the policy of the index service"));

  // Nothing changed: the stream holds Alice's one message, Bob's index is where he left it.
  auto content = ask(*p.bob, through(*p.bob_channel, "stream_kafka"), pull_request);
  REQUIRE(content);
  CHECK_FALSE(content.value().error);
  CHECK(content.value().messages.size() == 1);
  auto bobs_index =
      ask(*p.bob, through(*p.bob_channel, "stream_kafka_index"), index_request(index_kind::get, "alice-to-bob", "bob"));
  REQUIRE(bobs_index);
  CHECK(bobs_index.value().index == 1);

  // Alice may use the stream, but an index she saves under Bob's client id is her own.
  auto alice_sets = ask(*p.alice, through(*p.alice_channel, "stream_kafka_index"),
                        index_request(index_kind::save, "alice-to-bob", "bob", 0));
  REQUIRE(alice_sets);
  CHECK_FALSE(alice_sets.value().error);
  auto again =
      ask(*p.bob, through(*p.bob_channel, "stream_kafka_index"), index_request(index_kind::get, "alice-to-bob", "bob"));
  REQUIRE(again);
  CHECK(again.value().index == 1);

  // And the two go on talking.
  CHECK(p.alice_asks_bob("still there?") == "bob");
  CHECK(eventually([&] { return p.bob_stream->status().saved_index == 2; }));
}

TEST_CASE("a stream's parties may create it again; its owner may change them; nobody else may claim it") {
  hub_fixture f;
  auto bob = f.member("bob", {});
  auto alice = f.member("alice", {});
  auto carol = f.member("carol", {});
  auto bob_channel = f.member_channel(*bob).value();
  auto alice_channel = f.member_channel(*alice).value();
  auto carol_channel = f.member_channel(*carol).value();
  auto for_alice = stream_request(kind::create, "bob-notes");
  for_alice.parties = {alice->id()};
  REQUIRE_FALSE(ask(*bob, through(bob_channel, "stream_kafka"), for_alice).value().error);
  // Alice, a party, creates it too (as her stream client would): nothing changes.
  auto by_alice = stream_request(kind::create, "bob-notes");
  by_alice.parties = {carol->id()};
  CHECK_FALSE(ask(*alice, through(alice_channel, "stream_kafka"), by_alice).value().error);
  CHECK(forbidden(
      ask(*carol, through(carol_channel, "stream_kafka"), stream_request(kind::push, "bob-notes", "x")).value().error,
      "belongs to " + bob->id()));
  // Bob names Carol instead of Alice.
  auto for_carol = stream_request(kind::create, "bob-notes");
  for_carol.parties = {carol->id()};
  REQUIRE_FALSE(ask(*bob, through(bob_channel, "stream_kafka"), for_carol).value().error);
  CHECK_FALSE(
      ask(*carol, through(carol_channel, "stream_kafka"), stream_request(kind::push, "bob-notes", "x")).value().error);
  CHECK(forbidden(
      ask(*alice, through(alice_channel, "stream_kafka"), stream_request(kind::push, "bob-notes", "y")).value().error,
      "is not for " + alice->id()));
  // Parties that are not identifiers, or too many, are a bad request.
  auto bad = stream_request(kind::create, "bob-other");
  bad.parties = {"alice"};
  CHECK(ask(*bob, through(bob_channel, "stream_kafka"), bad).value().error.code == stream::stream_errc::bad_request);
  // A stream never created has no owner: as if it did not exist.
  CHECK(ask(*bob, through(bob_channel, "stream_kafka"), stream_request(kind::pull, "nobody-made-this"))
            .value()
            .error.code == stream::stream_errc::unknown_stream);
}

TEST_CASE("stream owners live in Kafka: restarted stream services on the same cluster still refuse Mallory") {
  hub_fixture f;
  alice_and_bob p(f);
  REQUIRE(p.alice_asks_bob("before") == "bob");

  // The stream services restart with a Kafka client and owners of their own, as a new hub
  // process on the same cluster would.
  for (const auto* worker : {"stream_kafka", "stream_kafka_index"}) REQUIRE(f.hub.n.stop_worker(worker));
  auto client = sk::kafka_client::create(
      {.config = {.bootstrap_servers = f.kafka->bootstrap()}, .embedded = f.kafka, .log = f.hub.logs.logger()});
  REQUIRE(client);
  auto owners = sk::stream_owners::create(client.value(), std::string(sk::owners_topic), f.hub.logs.logger());
  sk::stream_membership members{.allow = au::members_of(f.project->trusted()), .owners = owners};
  sk::stream_service_options so{.kafka = client.value()};
  so.members = members;
  REQUIRE(f.hub.n.start_worker("stream_kafka", sk::stream_kafka_service(so)));
  sk::index_service_options io{.kafka = client.value()};
  io.members = members;
  REQUIRE(f.hub.n.start_worker("stream_kafka_index", sk::stream_kafka_index_service(io)));
  REQUIRE(eventually([&] { return owners->loaded(); }, 20s));
  CHECK(f.hub.logs.eventually_contains("stream owners: 2 stream owner(s) read from '__nodus_stream_owners'"));

  auto mallory = f.member("mallory", {});
  auto mallory_channel = f.member_channel(*mallory);
  REQUIRE(mallory_channel);
  auto create_request = stream_request(kind::create, "alice-to-bob");
  auto create = ask(*mallory, through(mallory_channel.value(), "stream_kafka"), create_request);
  REQUIRE(create);
  CHECK(forbidden(create.value().error, "stream 'alice-to-bob' belongs to " + p.bob->id()));
  CHECK(p.alice_asks_bob("after") == "bob");
}
