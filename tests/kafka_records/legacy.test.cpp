#include "nodus/kafka/records/legacy_message.hpp"

#include <doctest/doctest.h>

#include "nodus/kafka/records/crc.hpp"
#include "nodus/kafka/records/record_set.hpp"
#include "vectors.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

namespace {

void put_be(nodus::bytes& out, std::uint64_t v, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * (width - 1 - i))));
}

void put_nullable(nodus::bytes& out, const std::optional<nodus::bytes>& b) {
  if (!b) return put_be(out, 0xffffffff, 4);
  put_be(out, b->size(), 4);
  out.insert(out.end(), b->begin(), b->end());
}

// A legacy message as the format describes it (legacy_message.hpp), built field by field.
nodus::bytes message(std::int64_t offset, std::int8_t magic, std::int8_t attributes, std::optional<nodus::bytes> key,
                     std::optional<nodus::bytes> value) {
  nodus::bytes body;
  put_be(body, static_cast<std::uint8_t>(magic), 1);
  put_be(body, static_cast<std::uint8_t>(attributes), 1);
  if (magic == 1) put_be(body, 1600000000000 + static_cast<std::uint64_t>(offset), 8);
  put_nullable(body, key);
  put_nullable(body, value);
  nodus::bytes out;
  put_be(out, static_cast<std::uint64_t>(offset), 8);
  put_be(out, body.size() + 4, 4);
  put_be(out, crc32(body), 4);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

nodus::bytes inner_set(std::int8_t magic) {
  nodus::bytes set;
  for (std::int64_t i = 0; i < 3; ++i) {
    const auto m = message(i, magic, 0, test::text("k" + std::to_string(i)),
                           test::text(std::string(50, 'a' + static_cast<char>(i))));
    set.insert(set.end(), m.begin(), m.end());
  }
  return set;
}

}  // namespace

TEST_CASE("legacy messages of magic 0 and 1 decode, with null keys and values") {
  for (std::int8_t magic = 0; magic <= 1; ++magic) {
    const auto wire = message(7, magic, 0, std::nullopt, test::text("v"));
    const auto m = decode_legacy_message(wire);
    REQUIRE_MESSAGE(m, (m ? "" : m.error().message()));
    CHECK(m.value().offset == 7);
    CHECK(m.value().magic == magic);
    CHECK(m.value().timestamp.has_value() == (magic == 1));
    CHECK_FALSE(m.value().key);
    CHECK(m.value().value == test::text("v"));
    CHECK(decode_legacy_message(message(8, magic, 0, test::text("k"), std::nullopt)).value().value == std::nullopt);
  }
}

TEST_CASE("compressed wrapper messages give their inner messages, for every legacy codec") {
  for (std::int8_t magic = 0; magic <= 1; ++magic) {
    for (const auto c : {codec::gzip, codec::snappy, codec::lz4}) {
      CAPTURE(int(magic));
      CAPTURE(name(c));
      const auto inner = inner_set(magic);
      const auto wire = message(2, magic, static_cast<std::int8_t>(c), std::nullopt, compress(c, inner).value());
      const auto set = decode_record_set(wire);
      REQUIRE_MESSAGE(set, (set ? "" : set.error().message()));
      REQUIRE(set.value().entries.size() == 1);
      const auto& m = std::get<legacy_entry>(set.value().entries[0]).message;
      REQUIRE(m.inner.size() == 3);
      CHECK(m.inner[2].offset == 2);
      CHECK(m.inner[1].key == test::text("k1"));
      CHECK(m.inner[1].value == test::text(std::string(50, 'b')));
      CHECK(encode(set.value()).value() == wire);
      // The decompression limit holds for wrappers too.
      CHECK(decode_record_set(wire, {.max_decompressed_bytes = 100}).error().code == errc::too_large);
    }
  }
}

TEST_CASE("bad legacy messages are refused with a reason") {
  auto wire = message(5, 1, 0, test::text("k"), test::text("v"));
  auto flipped = wire;
  flipped.back() ^= 1;
  const auto bad_crc = decode_legacy_message(flipped);
  REQUIRE_FALSE(bad_crc);
  CHECK(bad_crc.error().message().find("legacy message at offset 5: CRC-32 mismatch") != std::string::npos);
  for (std::size_t n = 0; n < wire.size(); ++n) CHECK_FALSE(decode_legacy_message(byte_view(wire).first(n)));
  // A wrapper inside a wrapper, and zstd (magic 2 only) are refused.
  const auto nested =
      message(0, 1, 1, std::nullopt, compress(codec::gzip, message(0, 1, 1, std::nullopt, test::text("x"))).value());
  CHECK(decode_legacy_message(nested).error().message().find("inside a compressed message") != std::string::npos);
  CHECK(decode_legacy_message(message(0, 1, 4, std::nullopt, test::text("x"))).error().code == errc::not_supported);
  CHECK_FALSE(decode_legacy_message(message(0, 1, 1, std::nullopt, std::nullopt)));
}

TEST_CASE("a record set mixing legacy messages, a v2 batch and a cut tail re-encodes unchanged") {
  nodus::bytes wire = message(0, 0, 0, test::text("a"), test::text("1"));
  const auto second =
      message(1, 1, static_cast<std::int8_t>(codec::gzip), std::nullopt, compress(codec::gzip, inner_set(1)).value());
  wire.insert(wire.end(), second.begin(), second.end());
  record_batch b;
  b.base_offset = 4;
  b.records.push_back({.value = test::text("v2")});
  const auto third = encode(b).value();
  wire.insert(wire.end(), third.begin(), third.end());
  const auto whole = wire.size();
  wire.insert(wire.end(), third.begin(), third.begin() + 30);
  const auto set = decode_record_set(wire);
  REQUIRE_MESSAGE(set, (set ? "" : set.error().message()));
  REQUIRE(set.value().entries.size() == 4);
  CHECK(std::holds_alternative<legacy_entry>(set.value().entries[0]));
  CHECK(std::holds_alternative<legacy_entry>(set.value().entries[1]));
  CHECK(std::holds_alternative<record_batch>(set.value().entries[2]));
  CHECK(std::get<truncated_tail>(set.value().entries[3]).raw.size() == wire.size() - whole);
  CHECK(encode(set.value()).value() == wire);
}
