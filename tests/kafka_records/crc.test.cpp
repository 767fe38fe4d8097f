#include "nodus/kafka/records/crc.hpp"

#include <doctest/doctest.h>

#include "vectors.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

TEST_CASE("CRC-32C matches RFC 3720, Apache Kafka's and kafka-python's vectors, with and without SSE4.2") {
  const auto file = test::load_vectors("crc32c_vectors.json");
  REQUIRE(file.at("vectors").size() >= 11);
  for (const auto& v : file.at("vectors")) {
    CAPTURE(v.at("name").get<std::string>());
    const auto input = test::from_hex(v.at("input_hex").get<std::string>());
    const auto expected = static_cast<std::uint32_t>(std::stoul(v.at("crc32c").get<std::string>(), nullptr, 16));
    CHECK(crc32c(input) == expected);
    CHECK(detail::crc32c_portable(input, 0) == expected);
  }
}

TEST_CASE("CRC-32C continues across pieces, at every length and alignment") {
  nodus::bytes data(300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 31 + 7);
  const auto whole = detail::crc32c_portable(data, 0);
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t length = 0; start + length <= data.size(); length += 13) {
      const byte_view piece = byte_view(data).subspan(start, length);
      CHECK(crc32c(piece) == detail::crc32c_portable(piece, 0));
    }
  }
  for (std::size_t cut = 0; cut <= data.size(); cut += 7) {
    const byte_view all(data);
    CHECK(crc32c(all.subspan(cut), crc32c(all.first(cut))) == whole);
  }
  const std::string line =
      std::string("CRC-32C by the CPU's instruction: ") + (detail::crc32c_hardware_available() ? "yes" : "no");
  MESSAGE(line);
}

TEST_CASE("CRC-32 is the IEEE CRC of zlib and legacy Kafka messages") {
  CHECK(crc32(as_bytes("123456789")) == 0xcbf43926u);  // the CRC catalogue's check value
  CHECK(crc32({}) == 0u);
}
