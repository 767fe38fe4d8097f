#include "nodus/kafka/records/record_set.hpp"

#include <doctest/doctest.h>

#include "vectors.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

namespace {

// Every batch of rskafka_record_batches.json one after the other, as a fetch response holds them.
nodus::bytes fetched_records(std::size_t& batches) {
  const auto file = test::load_vectors("rskafka_record_batches.json");
  nodus::bytes out;
  batches = 0;
  for (const auto& e : file.at("batches")) {
    const auto b = test::from_hex(e.at("hex").get<std::string>());
    out.insert(out.end(), b.begin(), b.end());
    ++batches;
  }
  return out;
}

std::size_t count_batches(const record_set& set) {
  std::size_t n = 0;
  for (const auto& e : set.entries) n += std::holds_alternative<record_batch>(e) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a record set of batches in every codec decodes and re-encodes byte for byte") {
  std::size_t batches = 0;
  const auto wire = fetched_records(batches);
  REQUIRE(batches == 7);
  const auto set = decode_record_set(wire);
  REQUIRE_MESSAGE(set, (set ? "" : set.error().message()));
  CHECK(set.value().entries.size() == batches);
  CHECK(count_batches(set.value()) == batches);
  CHECK(encode(set.value()).value() == wire);
  CHECK(decode_record_set({}).value().entries.empty());
}

TEST_CASE("a record set cut anywhere keeps its whole batches and re-emits the cut one unchanged") {
  std::size_t batches = 0;
  const auto wire = fetched_records(batches);
  std::size_t previous_whole = 0;
  for (std::size_t n = 0; n <= wire.size(); ++n) {
    CAPTURE(n);
    const auto set = decode_record_set(byte_view(wire).first(n));
    REQUIRE_MESSAGE(set, (set ? "" : set.error().message()));
    const auto whole = count_batches(set.value());
    CHECK(whole >= previous_whole);
    previous_whole = whole;
    const bool has_tail =
        !set.value().entries.empty() && std::holds_alternative<truncated_tail>(set.value().entries.back());
    CHECK(set.value().entries.size() == whole + (has_tail ? 1 : 0));
    CHECK(encode(set.value()).value() == nodus::bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  CHECK(previous_whole == batches);
}

TEST_CASE("a whole entry that does not decode fails the set, saying where") {
  std::size_t batches = 0;
  auto wire = fetched_records(batches);
  const auto first = static_cast<std::size_t>(wire[11]) + 12;  // the first batch's size
  auto unknown_magic = wire;
  unknown_magic[first + 16] = 3;
  const auto a = decode_record_set(unknown_magic);
  REQUIRE_FALSE(a);
  CHECK(a.error().code == errc::unsupported_version);
  CHECK(a.error().message().find("records at byte " + std::to_string(first)) != std::string::npos);

  auto bad_crc = wire;
  bad_crc[first + 30] ^= 1;
  const auto b = decode_record_set(bad_crc);
  REQUIRE_FALSE(b);
  CHECK(b.error().message().find("CRC-32C mismatch") != std::string::npos);

  auto negative = wire;
  negative[first + 8] = 0xff;
  CHECK(decode_record_set(negative).error().code == errc::malformed);
  auto too_small = wire;
  too_small[first + 8] = too_small[first + 9] = too_small[first + 10] = 0;
  too_small[first + 11] = 2;
  CHECK(decode_record_set(too_small).error().code == errc::malformed);
}

TEST_CASE("the decompression limit covers the whole record set") {
  std::size_t batches = 0;
  const auto wire = fetched_records(batches);
  // The compressed batches decompress to about 130 bytes each.
  CHECK(decode_record_set(wire, {.max_decompressed_bytes = 300}).error().code == errc::too_large);
  CHECK(decode_record_set(wire, {.max_decompressed_bytes = 4096}));
}
