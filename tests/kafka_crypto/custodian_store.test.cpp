// A persistent custodian: its keys' bytes in a directory vault, what it knows of them in its
// state file; a restarted custodian serves the keys it had, and not the ones it deleted.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "custodian_fixture.hpp"
#include "temp_dir.hpp"

using namespace nodus;
using namespace nodus::test;
namespace fs = std::filesystem;

namespace {

const std::string producer = "I0000000000000000000000000000000000000001";
const std::string consumer = "I0000000000000000000000000000000000000002";

std::shared_ptr<kc::key_custodian> open_in(const temp_dir& dir, const test_clock& clock) {
  auto v = vault::vault::open_directory(dir.path / "vault");
  REQUIRE_MESSAGE(v, v.error().message());
  auto c = kc::key_custodian::open({.keys = v.value(),
                                    .state_file = dir.path / "kafka_custodian.json",
                                    .timing = short_timing,
                                    .producers = {producer},
                                    .consumers = {consumer},
                                    .clock = clock.fn()});
  REQUIRE_MESSAGE(c, c.error().message());
  return c.value();
}

}  // namespace

TEST_CASE("a restarted custodian serves the keys it had, as current, and not the deleted ones") {
  temp_dir dir;
  test_clock clock;
  kc::shared_key kept, shredded;
  {
    auto c = open_in(dir, clock);
    kept = c->key_for_producing(producer, "orders").value();
    shredded = c->key_for_producing(producer, "payments").value();
    REQUIRE(c->delete_key(shredded->name));
  }
  auto c = open_in(dir, clock);
  auto again = c->key_by_name(consumer, kept->name);
  REQUIRE_MESSAGE(again, again.error().message());
  CHECK(same_bytes(*again.value(), *kept));
  CHECK(again.value()->producer == producer);
  CHECK(again.value()->created == kept->created);
  CHECK(c->key_for_producing(producer, "orders").value()->name == kept->name);  // still current
  auto gone = c->key_by_name(consumer, shredded->name);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == kc::key_error::deleted);
  CHECK(gone.error().reason.find("deleted") != std::string::npos);
  const auto listed = c->list_keys();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].name == kept->name);
  CHECK(listed[0].topic == "orders");
}

TEST_CASE("the state file never holds key bytes, and a key whose bytes left the vault counts as deleted") {
  temp_dir dir;
  test_clock clock;
  kc::shared_key key;
  {
    auto c = open_in(dir, clock);
    key = c->key_for_producing(producer, "orders").value();
  }
  std::ifstream in(dir.path / "kafka_custodian.json");
  const std::string text(std::istreambuf_iterator<char>(in), {});
  CHECK(text.find(kc::to_hex(key->name)) != std::string::npos);
  std::string material_hex;
  for (auto b : key->material.view()) material_hex += fmt::format("{:02x}", b);
  CHECK(text.find(material_hex) == std::string::npos);
  {
    auto v = vault::vault::open_directory(dir.path / "vault").value();
    for (const auto& id : v->list())
      if (v->type_of(id).value() == vault::key_type::data_key) REQUIRE(v->remove(id));
  }
  auto c = open_in(dir, clock);
  CHECK(c->key_by_name(consumer, key->name).error().code == kc::key_error::deleted);
}

TEST_CASE("a damaged state file is refused with a reason naming it") {
  temp_dir dir;
  std::ofstream(dir.path / "kafka_custodian.json")
      << "{\"version\": 1, \"keys\": [{\"name\": \"zz\"}], \"deleted\": []}";
  auto c = kc::key_custodian::open(
      {.keys = vault::vault::create_in_memory(), .state_file = dir.path / "kafka_custodian.json"});
  REQUIRE_FALSE(c);
  CHECK(c.error().reason.find("kafka_custodian.json") != std::string::npos);
}

TEST_CASE("timing is checked, and the key limit holds") {
  auto bad =
      kc::key_custodian::open({.keys = vault::vault::create_in_memory(),
                               .timing = {.rotation = std::chrono::seconds(10), .rekey = std::chrono::seconds(20)}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason.find("rotation") != std::string::npos);
  auto c = kc::key_custodian::open({.keys = vault::vault::create_in_memory(), .producers = {producer}, .max_keys = 2})
               .value();
  CHECK(c->key_for_producing(producer, "a"));
  CHECK(c->key_for_producing(producer, "b"));
  auto third = c->key_for_producing(producer, "c");
  REQUIRE_FALSE(third);
  CHECK(third.error().reason.find("limit") != std::string::npos);
  CHECK(c->key_for_producing(producer, "bad topic!").error().code == std::errc::invalid_argument);
}

TEST_CASE("a message made on the custodian's node counts as its local identity") {
  local_message m;
  CHECK(secure_channel::asking_identity(m, "Ilocal") == "Ilocal");
  CHECK(secure_channel::asking_identity(m, "").empty());
  m.metadata.emplace(std::string(secure_channel::identifier_key), "Ipeer");
  CHECK(secure_channel::asking_identity(m, "Ilocal") == "Ipeer");
  local_message from_tcp;
  from_tcp.origin = std::make_shared<flow_origin>(flow_origin{"tcp.1", "", "tcp connection"});
  CHECK(secure_channel::asking_identity(from_tcp, "Ilocal").empty());
}
