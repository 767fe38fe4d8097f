#include "nodus/kafka/records/record_batch.hpp"

#include <doctest/doctest.h>

#include "nodus/kafka/records/control_record.hpp"
#include "nodus/kafka/records/crc.hpp"
#include "vectors.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

namespace {

void check_header(const record_batch& b, const test::json& d) {
  CHECK(b.base_offset == d.at("base_offset").get<std::int64_t>());
  CHECK(b.partition_leader_epoch == d.at("partition_leader_epoch").get<std::int32_t>());
  CHECK(b.crc == std::stoul(d.at("crc").get<std::string>(), nullptr, 16));
  CHECK(b.attributes == d.at("attributes").get<std::int16_t>());
  CHECK(name(b.compression()) == d.at("compression").get<std::string>());
  CHECK(b.log_append_time() == (d.at("timestamp_type").get<std::string>() == "LogAppendTime"));
  CHECK(b.is_transactional() == d.at("is_transactional").get<bool>());
  CHECK(b.is_control() == d.at("is_control").get<bool>());
  CHECK(b.last_offset_delta == d.at("last_offset_delta").get<std::int32_t>());
  CHECK(b.base_timestamp == d.at("first_timestamp").get<std::int64_t>());
  CHECK(b.max_timestamp == d.at("max_timestamp").get<std::int64_t>());
  CHECK(b.producer_id == d.at("producer_id").get<std::int64_t>());
  CHECK(b.producer_epoch == d.at("producer_epoch").get<std::int16_t>());
  CHECK(b.base_sequence == d.at("base_sequence").get<std::int32_t>());
  CHECK(b.record_count() == d.at("record_count").get<std::int32_t>());
}

void check_records(const record_batch& b, const test::json& d) {
  const auto& records = d.at("records");
  REQUIRE(b.records.size() == records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(b.records[i] == test::described_record(records[i]));
    // The record's length field as the file gives it: what encoding the record alone writes.
    const auto one = encode_records({b.records[i]});
    const auto length = records[i].at("length").get<std::size_t>();
    CHECK(one.size() == length + (length < 64 ? 1 : 2));
  }
}

// Every example of record_batch_v2_examples.json, and the uncompressed ones of
// rskafka_record_batches.json.
std::vector<std::pair<std::string, test::json>> uncompressed_examples() {
  std::vector<std::pair<std::string, test::json>> out;
  const auto curated = test::load_vectors("record_batch_v2_examples.json");
  for (const auto& e : curated.at("examples")) out.emplace_back(e.at("label").get<std::string>(), e);
  const auto rskafka = test::load_vectors("rskafka_record_batches.json");
  for (const auto& e : rskafka.at("batches"))
    if (e.at("decoded").at("compression") == "none") out.emplace_back(e.at("name").get<std::string>(), e);
  return out;
}

record_batch sample_batch() {
  record_batch b;
  b.base_offset = 42;
  b.base_timestamp = 1700000000000;
  b.max_timestamp = 1700000000009;
  b.last_offset_delta = 2;
  b.records.push_back({.key = test::text("k"), .value = test::text("v"), .headers = {{"h", test::text("x")}}});
  b.records.push_back(
      {.timestamp_delta = 9, .offset_delta = 1, .value = std::nullopt, .headers = {{"empty", std::nullopt}}});
  b.records.push_back({.offset_delta = 2, .key = std::nullopt, .value = nodus::bytes(300, 'z')});
  return b;
}

}  // namespace

TEST_CASE("the vector files' uncompressed batches decode to the records they describe, and re-encode byte for byte") {
  const auto examples = uncompressed_examples();
  REQUIRE(examples.size() == 8);
  for (const auto& [label, e] : examples) {
    CAPTURE(label);
    const auto wire = test::from_hex(e.at("hex").get<std::string>());
    REQUIRE(wire.size() == e.at("length").get<std::size_t>());
    const auto batch = decode_batch(wire);
    REQUIRE_MESSAGE(batch, (batch ? "" : batch.error().message()));
    check_header(batch.value(), e.at("decoded"));
    check_records(batch.value(), e.at("decoded"));
    CHECK(crc32c(byte_view(wire).subspan(21)) == batch.value().crc);
    const auto again = encode(batch.value());
    REQUIRE(again);
    CHECK(test::to_hex(again.value()) == test::to_hex(wire));
    // Built again from its fields alone, without the decoded payload, it is the same bytes.
    auto fresh = batch.value();
    fresh.wire.reset();
    CHECK(test::to_hex(encode(fresh).value()) == test::to_hex(wire));
  }
}

TEST_CASE("a batch with a wrong CRC is refused with an error naming the CRC and both values") {
  auto wire =
      test::from_hex(test::load_vectors("rskafka_record_batches.json").at("batches")[0].at("hex").get<std::string>());
  wire.back() ^= 0x01;  // the last byte of the header value "bar"
  const auto batch = decode_batch(wire);
  REQUIRE_FALSE(batch);
  CHECK(batch.error().code == errc::malformed);
  const auto reason = batch.error().message();
  CHECK(reason.find("CRC-32C mismatch") != std::string::npos);
  CHECK(reason.find("stored 2724fecd") != std::string::npos);
  CHECK(reason.find("offset 0") != std::string::npos);
}

TEST_CASE("an encoded batch decodes to itself, and a changed record changes the bytes and the CRC") {
  const auto original = sample_batch();
  const auto wire = encode(original).value();
  const auto decoded = decode_batch(wire);
  REQUIRE(decoded);
  CHECK(decoded.value() == original);
  CHECK(decoded.value().crc == crc32c(byte_view(wire).subspan(21)));

  auto changed = decoded.value();
  changed.records[0].value = test::text("another value");
  const auto rewired = encode(changed).value();
  CHECK(rewired.size() == wire.size() + 12);
  const auto again = decode_batch(rewired);
  REQUIRE(again);
  CHECK(again.value() == changed);
  CHECK(again.value().crc != decoded.value().crc);
}

TEST_CASE("every prefix of a batch, and every single-byte corruption, gives an error, never a crash") {
  const auto wire = encode(sample_batch()).value();
  for (std::size_t n = 0; n < wire.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_batch(byte_view(wire).first(n)));
  }
  for (std::size_t i = 0; i < wire.size(); ++i) {
    auto bad = wire;
    bad[i] ^= 0x40;
    const auto batch = decode_batch(bad);
    // The first 17 bytes are outside the CRC: base offset and partition leader epoch may change.
    if (i < 8 || (i >= 12 && i < 16))
      CHECK(batch);
    else
      CHECK_FALSE(batch);
  }
}

TEST_CASE("malformed records inside a batch with a right CRC are refused with a reason") {
  auto b = sample_batch();
  auto wire = encode(b).value();
  // Claim one record more than there are, and fix the CRC up, as a buggy producer would.
  wire[60] = static_cast<std::uint8_t>(wire[60] + 1);
  const auto crc = crc32c(byte_view(wire).subspan(21));
  for (std::size_t i = 0; i < 4; ++i) wire[17 + i] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
  const auto batch = decode_batch(wire);
  REQUIRE_FALSE(batch);
  CHECK(batch.error().message().find("record count 4 but only 3 records") != std::string::npos);
}

TEST_CASE("magic other than 2 and unassigned codecs are refused") {
  auto b = sample_batch();
  auto wire = encode(b).value();
  auto old = wire;
  old[16] = 1;
  CHECK(decode_batch(old).error().code == errc::unsupported_version);
  b.attributes = 6;
  CHECK_FALSE(encode(b));
}

TEST_CASE("attributes: timestamp type, transactional, control, delete horizon") {
  record_batch b;
  b.attributes = 0x08 | 0x10 | 0x20 | 0x40 | 0x04;
  CHECK(b.log_append_time());
  CHECK(b.is_transactional());
  CHECK(b.is_control());
  CHECK(b.has_delete_horizon());
  CHECK(b.compression() == codec::zstd);
  b.set_compression(codec::gzip);
  CHECK(b.attributes == (0x78 | 0x01));
}

TEST_CASE("a control batch's commit marker survives encode and decode") {
  record_batch b;
  b.attributes = attribute::control | attribute::transactional;
  b.producer_id = 7;
  b.records.push_back(make_control_record(control_type::commit, 3));
  const auto decoded = decode_batch(encode(b).value());
  REQUIRE(decoded);
  REQUIRE(decoded.value().records.size() == 1);
  const auto marker = decode_control_record(decoded.value().records[0]);
  REQUIRE(marker);
  CHECK(marker.value().type == static_cast<std::int16_t>(control_type::commit));
  CHECK(marker.value().coordinator_epoch == 3);
  record short_key{.key = nodus::bytes{0, 0}};
  CHECK_FALSE(decode_control_record(short_key));
}
