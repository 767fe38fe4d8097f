#include "nodus/core/message_codec.hpp"

#include <doctest/doctest.h>

using nodus::bytes;
using nodus::message_codec;

namespace {
struct point {
  int x = 0;
  std::string label;
  MSGPACK_DEFINE(x, label)
  friend bool operator==(const point&, const point&) = default;
};
}  // namespace

TEST_CASE("typed bodies round-trip through msgpack") {
  CHECK(message_codec<std::string>::decode(message_codec<std::string>::encode("hi")).value() == "hi");
  CHECK(message_codec<std::uint64_t>::decode(message_codec<std::uint64_t>::encode(42)).value() == 42);
  const point p{7, "seven"};
  CHECK(message_codec<point>::decode(message_codec<point>::encode(p)).value() == p);
}

TEST_CASE("a body of the wrong type is malformed, not an exception") {
  auto encoded = message_codec<std::uint64_t>::encode(42);
  auto as_string = message_codec<std::string>::decode(encoded);
  REQUIRE_FALSE(as_string);
  CHECK(as_string.error() == nodus::errc::malformed);
}

TEST_CASE("truncated and trailing input is refused") {
  auto encoded = message_codec<std::string>::encode("hello");
  for (std::size_t n = 0; n < encoded.size(); ++n)
    CHECK_FALSE(message_codec<std::string>::decode(nodus::byte_view(encoded.data(), n)));
  encoded.push_back(0);
  CHECK_FALSE(message_codec<std::string>::decode(encoded));
}

TEST_CASE("a huge declared array length is refused without allocating it") {
  const bytes huge_array{0xdd, 0x7f, 0xff, 0xff, 0xff, 0x00};  // array32 of 2^31-1 elements
  auto decoded = message_codec<std::vector<int>>::decode(huge_array);
  REQUIRE_FALSE(decoded);
  CHECK(decoded.error() == nodus::errc::too_large);
}

TEST_CASE("raw bytes pass through unchanged") {
  const bytes raw{1, 2, 3, 0xff};
  CHECK(message_codec<bytes>::encode(raw) == raw);
  CHECK(message_codec<bytes>::decode(raw).value() == raw);
}
