// Sealing a producer's record sets and opening them on the consumer's side: every value back as
// it was, everything around it kept, and each way of moving or changing a record caught.

#include "nodus/kafka_crypto/record_sealing.hpp"

#include <doctest/doctest.h>

#include "kafka_crypto_support.hpp"

using namespace nodus;
using namespace nodus::kafka_crypto;
using nodus::test::contains;
using nodus::test::encoded;
using nodus::test::make_batch;
using nodus::test::make_key;
namespace records = kafka::records;

namespace {

const std::vector<std::optional<std::string>> three = {"card 4111-1111-1111-1111", std::nullopt, "hello"};

records::record_batch only_batch(const bytes& wire) {
  auto set = records::decode_record_set(wire);
  REQUIRE(set);
  REQUIRE(set.value().entries.size() == 1);
  return std::get<records::record_batch>(set.value().entries[0]);
}

struct consumer {
  test::key_ring ring;
  std::shared_ptr<sequence_tracker> tracker = std::make_shared<sequence_tracker>();
  record_opener opener;
  open_counts counts;
  explicit consumer(undecryptable_policy p = undecryptable_policy::fail, std::vector<std::string> plain = {})
      : opener(tracker, p, std::move(plain)) {}

  opened_records open(const bytes& wire, const record_place& place) {
    auto set = records::decode_record_set(wire);
    REQUIRE(set);
    auto out = opener.open(set.value(), place, ring.lookup(), counts);
    REQUIRE(out);
    return std::move(out.value());
  }
};

}  // namespace

TEST_CASE("sealed values open to what was produced, with every codec, and nothing else changes") {
  for (auto c : {records::codec::none, records::codec::gzip, records::codec::snappy, records::codec::lz4,
                 records::codec::zstd}) {
    CAPTURE(name(c));
    const auto key = make_key("payments");
    auto batch = make_batch(three, c, 4000, 17);
    batch.attributes |= records::attribute::transactional;
    const auto produced = encoded(batch);
    record_sealer sealer;
    auto sealed = sealer.seal(produced, {"payments", 2}, *key, clock_type::now());
    REQUIRE(sealed);
    CHECK_FALSE(contains(sealed.value(), "4111-1111"));
    CHECK(sealer.sealed() == 2);  // the tombstone is not sealed

    const auto in_topic = only_batch(sealed.value());
    CHECK(in_topic.compression() == c);
    CHECK(in_topic.is_transactional());
    CHECK(in_topic.producer_id == 4000);
    CHECK(in_topic.producer_epoch == 3);
    CHECK(in_topic.base_sequence == 17);
    CHECK(in_topic.last_offset_delta == 2);
    CHECK(in_topic.base_timestamp == batch.base_timestamp);
    REQUIRE(in_topic.records.size() == 3);
    CHECK_FALSE(in_topic.records[1].value);  // still a tombstone
    CHECK(in_topic.records[0].key == batch.records[0].key);
    CHECK(in_topic.records[0].value->size() == batch.records[0].value->size() + envelope_overhead);
    CHECK(has_sealed_header(in_topic.records[0].headers));

    consumer bob;
    bob.ring.add(key);
    auto opened = bob.open(sealed.value(), {"payments", 2});
    CHECK_FALSE(opened.failed);
    CHECK(opened.problems.empty());
    const auto back = only_batch(opened.records);
    CHECK(back.records == batch.records);
    CHECK(back.compression() == c);
    CHECK(bob.counts.opened == 2);
  }
}

TEST_CASE(
    "a value moved to another topic or partition, or changed, or passed off as another producer's, does not open") {
  const auto key = make_key("payments", "Ialice");
  record_sealer sealer;
  const auto sealed =
      sealer.seal(encoded(make_batch({"pay bob 10"})), {"payments", 0}, *key, clock_type::now()).value();

  SUBCASE("another partition") {
    consumer c;
    c.ring.add(key);
    CHECK(c.open(sealed, {"payments", 1}).failed);
  }
  SUBCASE("another topic") {
    consumer c;
    c.ring.add(key);
    CHECK(c.open(sealed, {"refunds", 0}).failed);
  }
  SUBCASE("another producer's key of the same bytes") {
    auto mallory = std::make_shared<data_key>();
    mallory->name = key->name;
    mallory->topic = key->topic;
    mallory->producer = "Imallory";
    mallory->created = key->created;
    mallory->material = vault::secret(key->material.view());
    consumer c;
    c.ring.add(mallory);
    CHECK(c.open(sealed, {"payments", 0}).failed);
  }
  SUBCASE("a flipped bit, a changed key or header") {
    auto batch = only_batch(sealed);
    for (int what = 0; what < 3; ++what) {
      auto changed = batch;
      if (what == 0) changed.records[0].value->back() ^= 1;
      if (what == 1) changed.records[0].key = test::text("k9");
      if (what == 2) changed.records[0].headers[0].value = test::text("forged");
      changed.wire.reset();
      consumer c;
      c.ring.add(key);
      auto opened = c.open(encoded(changed), {"payments", 0});
      CHECK(opened.failed);
      REQUIRE(opened.problems.size() == 1);
      CHECK(opened.problems[0].find("does not open") != std::string::npos);
      CHECK(c.counts.failed == 1);
    }
  }
}

TEST_CASE("what cannot be opened is failed, skipped or tagged as the policy says") {
  const auto key = make_key("t");
  record_sealer sealer;
  auto first = make_batch({"a", "b", "c"});
  const auto good = sealer.seal(encoded(first), {"t", 0}, *key, clock_type::now()).value();
  auto bad = only_batch(sealer.seal(encoded(make_batch({"a", "b", "c"})), {"t", 0}, *key, clock_type::now()).value());
  bad.records[1].value->back() ^= 1;  // the middle record's tag fails
  bad.base_offset = 10;
  bad.wire.reset();
  bytes both = good;
  const auto bad_wire = encoded(bad);
  both.insert(both.end(), bad_wire.begin(), bad_wire.end());

  SUBCASE("fail: the batches before it, and the partition in error") {
    consumer c(undecryptable_policy::fail);
    c.ring.add(key);
    auto opened = c.open(both, {"t", 0});
    CHECK(opened.failed);
    CHECK(only_batch(opened.records).records.size() == 3);
    CHECK(c.counts.undecryptable == 1);
  }
  SUBCASE("skip: dropped, its offset left as a hole") {
    consumer c(undecryptable_policy::skip);
    c.ring.add(key);
    auto opened = c.open(both, {"t", 0});
    CHECK_FALSE(opened.failed);
    auto set = records::decode_record_set(opened.records).value();
    REQUIRE(set.entries.size() == 2);
    const auto& second = std::get<records::record_batch>(set.entries[1]);
    REQUIRE(second.records.size() == 2);
    CHECK(second.records[0].offset_delta == 0);
    CHECK(second.records[1].offset_delta == 2);
    CHECK(second.last_offset_delta == 2);  // the consumer moves past the hole
    CHECK(c.counts.skipped == 1);
  }
  SUBCASE("tag: delivered as it is in the topic, with the reason") {
    consumer c(undecryptable_policy::tag);
    c.ring.add(key);
    auto opened = c.open(both, {"t", 0});
    auto set = records::decode_record_set(opened.records).value();
    const auto& second = std::get<records::record_batch>(set.entries[1]);
    REQUIRE(second.records.size() == 3);
    const auto& tagged = second.records[1];
    REQUIRE(tagged.headers.size() == 3);
    CHECK(tagged.headers.back().key == undecryptable_header);
    CHECK(tagged.value == bad.records[1].value);
    CHECK(c.counts.tagged == 1);
    CHECK(second.records[2].value == test::text("c"));
  }
  SUBCASE("a deleted key: reported as such") {
    consumer c(undecryptable_policy::skip);
    auto opened = c.open(good, {"t", 0});
    CHECK(c.counts.skipped == 3);
    REQUIRE_FALSE(opened.problems.empty());
    CHECK(opened.problems[0].find("deleted") != std::string::npos);
  }
}

TEST_CASE("plaintext records are undecryptable unless their topic is a plaintext one") {
  const auto plain = encoded(make_batch({"in the clear"}));
  consumer strict(undecryptable_policy::skip);
  strict.open(plain, {"orders", 0});
  CHECK(strict.counts.skipped == 1);
  consumer lax(undecryptable_policy::skip, {"orders"});
  auto opened = lax.open(plain, {"orders", 0});
  CHECK(only_batch(opened.records).records[0].value == test::text("in the clear"));
  CHECK(lax.counts.plaintext == 1);
}

TEST_CASE("a replayed record is dropped, a deleted one reported, and a re-read passes") {
  const auto key = make_key("t");
  record_sealer sealer;
  const auto sealed = sealer.seal(encoded(make_batch({"r1", "r2", "r3"})), {"t", 0}, *key, clock_type::now()).value();
  auto batch = only_batch(sealed);

  SUBCASE("replay: the first record again at a later offset") {
    auto replayed = batch;
    replayed.base_offset = 3;
    replayed.records = {batch.records[0]};
    replayed.last_offset_delta = 0;
    replayed.wire.reset();
    bytes wire = sealed;
    const auto more = encoded(replayed);
    wire.insert(wire.end(), more.begin(), more.end());
    consumer c;
    c.ring.add(key);
    auto opened = c.open(wire, {"t", 0});
    CHECK_FALSE(opened.failed);
    auto set = records::decode_record_set(opened.records).value();
    CHECK(std::get<records::record_batch>(set.entries[1]).records.empty());
    CHECK(c.counts.replays == 1);
    CHECK(c.counts.opened == 3);
  }
  SUBCASE("gap: the middle record deleted") {
    auto holed = batch;
    holed.records.erase(holed.records.begin() + 1);
    holed.wire.reset();
    consumer c;
    c.ring.add(key);
    auto opened = c.open(encoded(holed), {"t", 0});
    CHECK(c.counts.gaps == 1);
    CHECK(c.counts.missing == 1);
    CHECK(only_batch(opened.records).records.size() == 2);
    REQUIRE_FALSE(opened.problems.empty());
    CHECK(opened.problems[0].find("1 record(s)") != std::string::npos);
  }
  SUBCASE("with report_header, the record after a gap says so") {
    auto holed = batch;
    holed.records.erase(holed.records.begin() + 1);
    holed.wire.reset();
    record_opener opener(std::make_shared<sequence_tracker>(), undecryptable_policy::fail, {}, true);
    test::key_ring ring;
    ring.add(key);
    auto set = records::decode_record_set(encoded(holed)).value();
    open_counts counts;
    auto opened = opener.open(set, {"t", 0}, ring.lookup(), counts).value();
    const auto back = only_batch(opened.records);
    REQUIRE(back.records.size() == 2);
    CHECK(back.records[0].headers.size() == 1);  // the first: nothing to report yet
    REQUIRE(back.records[1].headers.size() == 2);
    CHECK(back.records[1].headers[1].key == report_header);
    const std::string said(back.records[1].headers[1].value->begin(), back.records[1].headers[1].value->end());
    CHECK(said.find("1 record(s)") != std::string::npos);
  }
  SUBCASE("re-read: the consumer fetches the same offsets again") {
    consumer c;
    c.ring.add(key);
    c.open(sealed, {"t", 0});
    auto again = c.open(sealed, {"t", 0});
    CHECK(only_batch(again.records).records.size() == 3);
    CHECK(c.counts.opened == 6);
    CHECK(c.counts.replays == 0);
    CHECK(c.counts.gaps == 0);
  }
}

TEST_CASE("an idempotent producer's retry goes out as the same bytes") {
  const auto key = make_key("t");
  record_sealer sealer;
  const auto batch = encoded(make_batch({"once"}, records::codec::lz4, 77, 5));
  const auto first = sealer.seal(batch, {"t", 0}, *key, clock_type::now()).value();
  const auto retry = sealer.seal(batch, {"t", 0}, *key, clock_type::now()).value();
  CHECK(first == retry);
  const auto next =
      sealer.seal(encoded(make_batch({"twice"}, records::codec::lz4, 77, 6)), {"t", 0}, *key, clock_type::now());
  CHECK(next.value() != first);
}

TEST_CASE("the rekey counter moves with time, and a counter past the key's validity is refused") {
  const auto key = make_key("t", "I1", std::chrono::minutes(150));
  CHECK(rekey_counter(*key, clock_type::now()) == 2);
  record_sealer sealer;
  const auto sealed = sealer.seal(encoded(make_batch({"v"})), {"t", 0}, *key, clock_type::now()).value();
  consumer c;
  c.ring.add(key);
  CHECK_FALSE(c.open(sealed, {"t", 0}).failed);

  auto old = make_key("t", "I1", std::chrono::hours(31));  // past the default 30 h validity
  const auto late = sealer.seal(encoded(make_batch({"v"})), {"t", 0}, *old, clock_type::now()).value();
  consumer d;
  d.ring.add(old);
  auto opened = d.open(late, {"t", 0});
  CHECK(opened.failed);
  REQUIRE_FALSE(opened.problems.empty());
  CHECK(opened.problems[0].find("validity") != std::string::npos);
}

TEST_CASE("control batches and legacy messages") {
  auto control = make_batch({"x"});
  control.attributes |= records::attribute::control | records::attribute::transactional;
  const auto key = make_key("t");
  record_sealer sealer;
  const auto wire = encoded(control);
  CHECK(sealer.seal(wire, {"t", 0}, *key, clock_type::now()).value() == wire);
  consumer c;
  CHECK(c.open(wire, {"t", 0}).records == wire);
  CHECK(c.counts.undecryptable == 0);
}

TEST_CASE("--encrypted-field seals only those fields of a JSON value, nested ones too, and restores their types") {
  const auto key = make_key("purchases");
  record_sealer sealer({"card.number", "amount", "missing"});
  const std::string purchase =
      R"({"id":7,"card":{"number":"4111111111111111","expiry":"12/29"},"amount":12.5,"item":"book"})";
  auto sealed = sealer.seal(encoded(make_batch({purchase, "not json"})), {"purchases", 0}, *key, clock_type::now());
  REQUIRE(sealed);
  const auto in_topic = only_batch(sealed.value());
  const std::string stored(in_topic.records[0].value->begin(), in_topic.records[0].value->end());
  CHECK(stored.find("4111111111111111") == std::string::npos);
  CHECK(stored.find("12.5") == std::string::npos);
  CHECK(stored.find(R"("item":"book")") != std::string::npos);  // the rest stays readable
  CHECK(stored.find(R"("expiry":"12/29")") != std::string::npos);
  const auto& marker = in_topic.records[0].headers.back();
  CHECK(marker.key == sealed_header);
  CHECK(std::string(marker.value->begin(), marker.value->end()) == R"(["card.number","amount"])");
  // Not JSON: sealed whole.
  CHECK(contains(*in_topic.records[1].value, "not json") == false);
  CHECK(std::string(in_topic.records[1].headers.back().value->begin(),
                    in_topic.records[1].headers.back().value->end()) == "1");

  consumer c;
  c.ring.add(key);
  auto opened = c.open(sealed.value(), {"purchases", 0});
  REQUIRE_FALSE(opened.failed);
  const auto back = only_batch(opened.records);
  CHECK(std::string(back.records[0].value->begin(), back.records[0].value->end()) == purchase);
  CHECK(back.records[1].value == test::text("not json"));
  CHECK(c.counts.opened == 2);

  SUBCASE("fields swapped between records, or the list changed, do not open") {
    auto changed = in_topic;
    auto& list = changed.records[0].headers.back().value;
    list = test::text(R"(["card.number"])");  // "amount" dropped from the list
    changed.wire.reset();
    consumer d;
    d.ring.add(key);
    CHECK(d.open(encoded(changed), {"purchases", 0}).failed);
  }
}
