// The key custodian and its client over a real secure channel between two nodes: who gets
// which key, rotation, revocation, deletion, and the client's cache and coalescing.
#include <doctest/doctest.h>

#include <thread>

#include "custodian_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

TEST_CASE("an allowed producer gets a key, the same one within the rotation period, a new one after") {
  custodian_fixture f;
  auto client = f.client_for(f.producer);
  auto first = f.produce_key(*client, "orders");
  REQUIRE_MESSAGE(first, first.error().message());
  CHECK(first.value()->topic == "orders");
  CHECK(first.value()->producer == f.producer.id());
  CHECK(first.value()->material.size() == 32);
  CHECK(first.value()->timing == short_timing);

  f.clock.advance(std::chrono::seconds(30));
  auto again = f.produce_key(*client, "orders");
  REQUIRE(again);
  CHECK(again.value()->name == first.value()->name);
  CHECK(client->stats().requests == 1);  // from the cache
  auto fresh_client = f.client_for(f.producer);
  auto from_custodian = f.produce_key(*fresh_client, "orders");
  REQUIRE(from_custodian);
  CHECK(from_custodian.value()->name == first.value()->name);  // the custodian's current key
  CHECK(same_bytes(*from_custodian.value(), *first.value()));

  f.clock.advance(std::chrono::seconds(31));
  auto rotated = f.produce_key(*client, "orders");
  REQUIRE(rotated);
  CHECK(rotated.value()->name != first.value()->name);
  CHECK_FALSE(same_bytes(*rotated.value(), *first.value()));
  CHECK(client->stats().requests == 2);
  auto other_topic = f.produce_key(*client, "payments");
  REQUIRE(other_topic);
  CHECK(other_topic.value()->name != rotated.value()->name);
  CHECK(f.custodian->list_keys().size() == 3);
}

TEST_CASE("an identity that is not an allowed producer is refused, with a reason, and it is logged") {
  custodian_fixture f;
  auto client = f.client_for(f.stranger);
  auto refused = f.produce_key(*client, "orders");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == kafka_crypto::key_error::refused);
  CAPTURE(refused.error().reason);
  CHECK(refused.error().reason.find("the key custodian at keeper refused") != std::string::npos);
  CHECK(refused.error().reason.find(f.stranger.id() + " is not an allowed producer") != std::string::npos);
  CHECK(f.keeper.logs.eventually_contains("refused identity " + f.stranger.id()));
  CHECK(f.custodian->list_keys().empty());
}

TEST_CASE("an allowed consumer gets a key by name; a stranger does not; a producer only its own") {
  custodian_fixture f;
  auto producer = f.client_for(f.producer);
  auto key = f.produce_key(*producer, "orders");
  REQUIRE(key);
  const auto name = key.value()->name;

  auto consumer = f.client_for(f.consumer);
  auto got = f.key_named(*consumer, name);
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got.value()->producer == f.producer.id());
  CHECK(same_bytes(*got.value(), *key.value()));

  auto stranger = f.client_for(f.stranger);
  auto refused = f.key_named(*stranger, name);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == kafka_crypto::key_error::refused);

  auto own = f.key_named(*f.client_for(f.producer), name);
  REQUIRE(own);
  CHECK(own.value()->name == name);
  auto second_producer = fresh_identity();
  f.custodian->allow_producer(second_producer.id());
  auto not_own = f.key_named(*f.client_for(second_producer), name);
  REQUIRE_FALSE(not_own);
  CHECK(not_own.error().code == kafka_crypto::key_error::refused);
  CHECK(not_own.error().reason.find("not one of its own") != std::string::npos);
}

TEST_CASE("a revoked producer gets no new key and no key by name; a revoked consumer no key") {
  custodian_fixture f;
  auto producer = f.client_for(f.producer);
  auto key = f.produce_key(*producer, "orders");
  REQUIRE(key);
  CHECK(f.custodian->revoke_producer(f.producer.id()));
  CHECK_FALSE(f.custodian->revoke_producer(f.producer.id()));
  f.clock.advance(std::chrono::seconds(61));  // past rotation: the client asks again
  auto refused = f.produce_key(*producer, "orders");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == kafka_crypto::key_error::refused);  // never bridged by the cache
  auto by_name = f.key_named(*f.client_for(f.producer), key.value()->name);
  REQUIRE_FALSE(by_name);
  CHECK(by_name.error().code == kafka_crypto::key_error::refused);

  CHECK(f.custodian->revoke_consumer(f.consumer.id()));
  auto consumer = f.key_named(*f.client_for(f.consumer), key.value()->name);
  REQUIRE_FALSE(consumer);
  CHECK(consumer.error().code == kafka_crypto::key_error::refused);
  f.custodian->allow_consumer(f.consumer.id());
  CHECK(f.key_named(*f.client_for(f.consumer), key.value()->name));
}

TEST_CASE("a deleted key is answered as deleted; a name never made says so") {
  custodian_fixture f;
  auto key = f.produce_key(*f.client_for(f.producer), "orders");
  REQUIRE(key);
  REQUIRE(f.custodian->delete_key(key.value()->name));
  CHECK(f.custodian->list_keys().empty());
  auto deleted = f.key_named(*f.client_for(f.consumer), key.value()->name);
  REQUIRE_FALSE(deleted);
  CHECK(deleted.error().code == kafka_crypto::key_error::deleted);
  CHECK(deleted.error().reason.find("crypto-shredded") != std::string::npos);
  CHECK(f.custodian->delete_key(key.value()->name).error().reason.find("already deleted") != std::string::npos);

  kafka_crypto::key_name never{};
  never[0] = 0x42;
  auto unknown = f.key_named(*f.client_for(f.consumer), never);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == kafka_crypto::key_error::deleted);
  CHECK(unknown.error().reason.find("never made") != std::string::npos);

  // The producer's next ask makes a new key: the deleted one is no longer current.
  auto next = f.produce_key(*f.client_for(f.producer), "orders");
  REQUIRE(next);
  CHECK(next.value()->name != key.value()->name);
}

TEST_CASE("a client whose custodian no longer answers keeps its key until validity, then fails with expired") {
  custodian_fixture f;
  auto client = f.client_for(f.producer);
  auto key = f.produce_key(*client, "orders");
  REQUIRE(key);
  REQUIRE(f.keeper.n.stop_worker("kafka_custodian"));
  f.clock.advance(std::chrono::seconds(90));  // past rotation (60 s), within validity (120 s)
  auto bridged = f.produce_key(*client, "orders");
  REQUIRE_MESSAGE(bridged, bridged.error().message());
  CHECK(bridged.value()->name == key.value()->name);
  CHECK(client->stats().requests == 2);
  f.clock.advance(std::chrono::seconds(31));
  auto expired = f.produce_key(*client, "orders");
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == kafka_crypto::key_error::expired);
  CAPTURE(expired.error().reason);
  CHECK(expired.error().reason.find("past its validity") != std::string::npos);
  CHECK(expired.error().reason.find("keeper") != std::string::npos);
}

TEST_CASE("concurrent asks for the same key make one request") {
  custodian_fixture f;
  auto client = f.client_for(f.producer);
  f.tap->set(
      [](local_message& m) { return frame_kind(m) == encrypted_frame ? tap::action::hold : tap::action::forward; });
  constexpr int askers = 6;
  std::vector<std::optional<result_or_failure<kafka_crypto::shared_key>>> got(askers);
  std::vector<std::thread> threads;
  for (int i = 0; i < askers; ++i) threads.emplace_back([&, i] { got[i] = f.produce_key(*client, "orders"); });
  REQUIRE(eventually([&] { return f.tap->held() == 1 && client->stats().waiting == askers - 1; }));
  f.tap->set({});
  for (auto& m : f.tap->take_held()) REQUIRE(f.keeper.n.block_on([&](context& ctx) { return ctx.forward(m); }));
  for (auto& t : threads) t.join();
  for (const auto& g : got) {
    REQUIRE(g);
    REQUIRE_MESSAGE(*g, g->error().message());
    CHECK(g->value()->name == got[0]->value()->name);
  }
  CHECK(client->stats().requests == 1);
  CHECK(client->stats().waiting == 0);
}

TEST_CASE("malformed bytes sent to the custodian get an error reply, and it keeps serving") {
  custodian_fixture f;
  auto client = f.client_for(f.producer);
  const route to{f.channels.back().address(), "kafka_custodian"};
  for (const bytes& garbage : {bytes{}, bytes{0xc1}, bytes{0x95, 0x01, 0x07, 0x00, 0xa0, 0xc0}, bytes(5000, 0x90)}) {
    auto reply = f.remote.n.send_and_receive<bytes>(to, garbage, std::chrono::seconds(5));
    REQUIRE(reply);
    auto decoded = kafka_crypto::decode_custodian_reply(reply.value());
    REQUIRE_MESSAGE(decoded, decoded.error().message());
    CHECK(decoded.value().status == kafka_crypto::custodian_status::bad_request);
    CHECK_FALSE(decoded.value().reason.empty());
  }
  CHECK(f.produce_key(*client, "orders"));
}

TEST_CASE("a message that did not come through a secure channel is refused") {
  custodian_fixture f;
  kafka_crypto::custodian_request asked{.op = kafka_crypto::custodian_op::key_for_producing, .topic = "orders"};
  // Sent on the keeper's own node without a local identity: no identity at all.
  auto reply = f.keeper.n.send_and_receive<bytes>(route{"kafka_custodian"}, kafka_crypto::encode(asked));
  REQUIRE(reply);
  auto decoded = kafka_crypto::decode_custodian_reply(reply.value());
  REQUIRE(decoded);
  CHECK(decoded.value().status == kafka_crypto::custodian_status::refused);
  CHECK(decoded.value().reason.find("secure channel") != std::string::npos);
}
