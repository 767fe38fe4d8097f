// The key custodian's policies: a subject its producer policy allows gets keys to seal with,
// one its consumer policy allows gets keys by name; anyone else is refused, the lists by
// identifier still count, and a subject without the attribute (no credential) is refused.
#include <doctest/doctest.h>

#include "nodus/kafka_crypto/custodian.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus;
namespace kc = nodus::kafka_crypto;

namespace {

std::shared_ptr<kc::key_custodian> custodian_with_policies() {
  kc::custodian_options o{.keys = vault::vault::create_in_memory()};
  o.producers = {"I0000000000000000000000000000000000000001"};
  o.producer_policy = policy::parse_policy(R"(subject.role = "member" and subject.kafka = "producer")").value();
  o.consumer_policy = policy::parse_policy(R"(subject.kafka = "consumer")").value();
  return kc::key_custodian::open(std::move(o)).value();
}

const policy::subject producer{"I00000000000000000000000000000000000000a1",
                               {{"role", "member"}, {"kafka", "producer"}}};
const policy::subject consumer{"I00000000000000000000000000000000000000c1",
                               {{"role", "member"}, {"kafka", "consumer"}}};
const policy::subject guest{"I00000000000000000000000000000000000000b1", {{"role", "guest"}, {"kafka", "producer"}}};
const policy::subject bare{"I00000000000000000000000000000000000000d1", {}};

}  // namespace

TEST_CASE("the custodian's producer and consumer policies decide over the asker's attributes") {
  auto c = custodian_with_policies();
  auto key = c->key_for_producing(producer, "orders");
  REQUIRE_MESSAGE(key, key.error().message());
  CHECK(key.value()->producer == producer.identifier);
  CHECK(c->producer_policy() == R"(subject.role = "member" and subject.kafka = "producer")");

  auto by_name = c->key_by_name(consumer, key.value()->name);
  REQUIRE_MESSAGE(by_name, by_name.error().message());
  CHECK(by_name.value()->name == key.value()->name);

  auto refused_guest = c->key_for_producing(guest, "orders");
  REQUIRE_FALSE(refused_guest);
  CHECK(refused_guest.error().message() == "identity " + guest.identifier + " is not an allowed producer");
  CHECK_FALSE(c->key_for_producing(consumer, "orders"));  // a consumer is not a producer
  CHECK_FALSE(c->key_by_name(bare, key.value()->name));   // no credential, no attributes
  CHECK_FALSE(c->key_by_name(guest, key.value()->name));

  // The identifier list still counts, with or without attributes.
  CHECK(c->key_for_producing(std::string_view("I0000000000000000000000000000000000000001"), "orders"));
}
