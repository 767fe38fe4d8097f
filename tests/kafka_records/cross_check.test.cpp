// Batches written by kafka-python (an independent implementation), generated once by
// make_kafka_python_vectors.py into vectors/kafka_python_batches.json: v2 and legacy magic 0
// and 1, uncompressed and gzip.
#include <doctest/doctest.h>

#include "nodus/kafka/records/record_set.hpp"
#include "vectors.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

namespace {

void check_v2(const record_batch& b, const test::json& described) {
  REQUIRE(b.records.size() == described.size());
  for (std::size_t i = 0; i < described.size(); ++i) {
    const auto& d = described[i];
    const auto& r = b.records[i];
    CHECK(b.base_offset + r.offset_delta == d.at("offset").get<std::int64_t>());
    CHECK(b.base_timestamp + r.timestamp_delta == d.at("timestamp").get<std::int64_t>());
    CHECK(r.key == test::nullable_hex(d.at("key_hex")));
    CHECK(r.value == test::nullable_hex(d.at("value_hex")));
    REQUIRE(r.headers.size() == d.at("headers").size());
    for (std::size_t h = 0; h < r.headers.size(); ++h) {
      CHECK(r.headers[h].key == d.at("headers")[h].at("key").get<std::string>());
      CHECK(r.headers[h].value == test::nullable_hex(d.at("headers")[h].at("value_hex")));
    }
  }
}

void check_legacy(const legacy_message& m, const test::json& d) {
  CHECK(m.offset == d.at("offset").get<std::int64_t>());
  if (d.at("timestamp").is_null())
    CHECK_FALSE(m.timestamp);
  else
    CHECK(m.timestamp == d.at("timestamp").get<std::int64_t>());
  CHECK(m.key == test::nullable_hex(d.at("key_hex")));
  CHECK(m.value == test::nullable_hex(d.at("value_hex")));
}

// The messages of a legacy record set: the entries' own, or a wrapper's inner ones.
std::vector<legacy_message> legacy_messages(const record_set& set) {
  std::vector<legacy_message> out;
  for (const auto& e : set.entries) {
    const auto& m = std::get<legacy_entry>(e).message;
    if (m.compression() == codec::none)
      out.push_back(m);
    else
      out.insert(out.end(), m.inner.begin(), m.inner.end());
  }
  return out;
}

}  // namespace

TEST_CASE("kafka-python's batches decode to the records it wrote, and re-encode byte for byte") {
  const auto file = test::load_vectors("kafka_python_batches.json");
  REQUIRE(file.at("batches").size() == 6);
  for (const auto& b : file.at("batches")) {
    CAPTURE(b.at("name").get<std::string>());
    const auto wire = test::from_hex(b.at("hex").get<std::string>());
    const auto set = decode_record_set(wire);
    REQUIRE_MESSAGE(set, (set ? "" : set.error().message()));
    CHECK(encode(set.value()).value() == wire);
    const auto& described = b.at("records");
    if (b.at("magic") == 2) {
      REQUIRE(set.value().entries.size() == 1);
      const auto& batch = std::get<record_batch>(set.value().entries[0]);
      CHECK(name(batch.compression()) == b.at("compression").get<std::string>());
      check_v2(batch, described);
      continue;
    }
    const auto messages = legacy_messages(set.value());
    REQUIRE(messages.size() == described.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
      CHECK(messages[i].magic == b.at("magic").get<int>());
      check_legacy(messages[i], described[i]);
    }
  }
}
