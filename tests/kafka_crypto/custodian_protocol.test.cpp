// The custodian's wire messages: round trips, and refusal of every malformed field.
#include <doctest/doctest.h>

#include "nodus/core/error.hpp"
#include "nodus/kafka_crypto/custodian_protocol.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus;
using namespace nodus::kafka_crypto;

TEST_CASE("requests and replies round-trip") {
  custodian_request r{.op = custodian_op::key_by_name, .request_id = 7};
  r.name[3] = 9;
  auto back = decode_custodian_request(encode(r));
  REQUIRE(back);
  CHECK(back.value().op == custodian_op::key_by_name);
  CHECK(back.value().request_id == 7);
  CHECK(back.value().name == r.name);

  custodian_reply reply{.request_id = 7};
  data_key k;
  k.name[0] = 1;
  k.topic = "orders";
  k.producer = "Iabc";
  k.created = std::chrono::system_clock::time_point(std::chrono::milliseconds(123456));
  k.material = vault::secret(vault::random_bytes(32));
  reply.key = std::move(k);
  reply.age = std::chrono::milliseconds(5);
  auto decoded = decode_custodian_reply(encode(reply));
  REQUIRE_MESSAGE(decoded, decoded.error().message());
  CHECK(decoded.value().key->topic == "orders");
  CHECK(decoded.value().key->created == reply.key->created);
  CHECK(decoded.value().age == std::chrono::milliseconds(5));
  CHECK(std::equal(decoded.value().key->material.view().begin(), decoded.value().key->material.view().end(),
                   reply.key->material.view().begin()));

  custodian_reply refusal{.request_id = 8, .status = custodian_status::refused, .reason = "no"};
  auto refused = decode_custodian_reply(encode(refusal));
  REQUIRE(refused);
  CHECK(refused.value().status == custodian_status::refused);
  CHECK_FALSE(refused.value().key);
}

TEST_CASE("malformed requests are refused with a reason") {
  custodian_request producing{.op = custodian_op::key_for_producing, .topic = "bad topic"};
  CHECK(decode_custodian_request(encode(producing)).error().code == errc::malformed);
  custodian_request long_topic{.op = custodian_op::key_for_producing, .topic = std::string(250, 'a')};
  CHECK(decode_custodian_request(encode(long_topic)).error().code == errc::malformed);
  CHECK(decode_custodian_request(bytes{0x95, 0x02, 0x01, 0x00, 0xa0, 0xc0}).error().code == errc::unsupported_version);
  CHECK(decode_custodian_request(bytes{0x94, 0x01, 0x01, 0x00, 0xa0}).error().code == errc::malformed);
  CHECK(decode_custodian_request(bytes{0x95, 0x01, 0x03, 0x00, 0xa0, 0xc0}).error().code == errc::malformed);
  CHECK(decode_custodian_request(bytes(5000, 0)).error().code == errc::too_large);
  CHECK(decode_custodian_request(bytes{}).error().code == errc::malformed);
  // A request by name with a 15-byte name.
  bytes short_name{0x95, 0x01, 0x02, 0x00, 0xa0, 0xc4, 15};
  short_name.resize(short_name.size() + 15);
  CHECK(decode_custodian_request(short_name).error().code == errc::malformed);
}

TEST_CASE("a reply whose key does not fit its status is refused") {
  custodian_reply ok_without_key{.request_id = 1};
  CHECK(decode_custodian_reply(encode(ok_without_key)).error().code == errc::malformed);
  CHECK(decode_custodian_reply(bytes{0x95, 0x01, 0x01, 0x09, 0xa0, 0xc0}).error().code == errc::malformed);
}
