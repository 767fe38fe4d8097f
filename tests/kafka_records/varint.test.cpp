// Kafka's zigzag varints (kafka/records/src/wire.hpp), against Apache Kafka's and kafka-python's
// vectors.
#include <doctest/doctest.h>

#include "vectors.hpp"
#include "wire.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

TEST_CASE("varints and varlongs decode and encode as Kafka's ByteUtils does") {
  const auto file = test::load_vectors("kafka_varint_vectors.json");
  for (const auto& v : file.at("varint_zigzag_int32")) {
    const auto encoded = test::from_hex(v.at("encoded_hex").get<std::string>());
    detail::reader in(encoded);
    CHECK(in.varint() == v.at("value").get<std::int32_t>());
    CHECK((in.ok() && in.remaining() == 0));
    nodus::bytes out;
    detail::writer(out).varint(v.at("value").get<std::int32_t>());
    CHECK(out == encoded);
  }
  for (const char* key : {"varlong_zigzag_int64", "kafka_python_varint"}) {
    for (const auto& v : file.at(key)) {
      const auto encoded = test::from_hex(v.at("encoded_hex").get<std::string>());
      detail::reader in(encoded);
      CHECK(in.varlong() == v.at("value").get<std::int64_t>());
      CHECK((in.ok() && in.remaining() == 0));
      nodus::bytes out;
      detail::writer(out).varlong(v.at("value").get<std::int64_t>());
      CHECK(out == encoded);
    }
  }
}

TEST_CASE("over-long varints are refused") {
  const auto file = test::load_vectors("kafka_varint_vectors.json");
  const auto& invalid = file.at("invalid");
  REQUIRE(invalid.size() == 2);
  const auto too_long_varint = test::from_hex(invalid[0].at("encoded_hex").get<std::string>());
  detail::reader a(too_long_varint);
  a.varint();
  CHECK_FALSE(a.ok());
  const auto too_long_varlong = test::from_hex(invalid[1].at("encoded_hex").get<std::string>());
  detail::reader b(too_long_varlong);
  b.varlong();
  CHECK_FALSE(b.ok());
  const nodus::bytes cut{0x80, 0x80};  // ends while the continuation bit is set
  detail::reader c(cut);
  c.varint();
  CHECK_FALSE(c.ok());
}
