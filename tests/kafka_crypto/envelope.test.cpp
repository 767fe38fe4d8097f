#include "nodus/kafka_crypto/envelope.hpp"

#include <doctest/doctest.h>

#include "nodus/core/error.hpp"

using namespace nodus;
using namespace nodus::kafka_crypto;

TEST_CASE("an envelope's prefix reads back, and values that are not envelopes are refused") {
  key_name key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i + 1);
  const session_id session{9, 8, 7, 6, 5, 4, 3, 2};
  bytes value;
  write_envelope_prefix(key, 0x01020304, session, 0x1122334455667788ULL, value);
  CHECK(value.size() == envelope_prefix_size);
  value.resize(envelope_overhead + 5, 0xab);
  auto e = read_envelope(value);
  REQUIRE(e);
  CHECK(e.value().key == key);
  CHECK(e.value().rekey_counter == 0x01020304);
  CHECK(e.value().session == session);
  CHECK(e.value().sequence == 0x1122334455667788ULL);
  CHECK(e.value().sealed.size() == 5 + envelope_tag_size);

  CHECK(read_envelope(byte_view(value).first(envelope_overhead - 1)).error().code == errc::malformed);
  auto wrong_magic = value;
  wrong_magic[0] = 'X';
  CHECK(read_envelope(wrong_magic).error().code == errc::malformed);
  auto newer = value;
  newer[2] = 2;
  auto refused = read_envelope(newer);
  CHECK(refused.error().code == errc::unsupported_version);
  CHECK(refused.error().message().find("version 2") != std::string::npos);
}

TEST_CASE("the associated data differs for every part it binds") {
  const bytes prefix(envelope_prefix_size, 1);
  const std::vector<kafka::records::header> headers{{"h", bytes{'v'}}};
  const auto base = associated_data({"orders", 0}, bytes{'k'}, headers, "I1", prefix);
  CHECK(base != associated_data({"orders2", 0}, bytes{'k'}, headers, "I1", prefix));
  CHECK(base != associated_data({"orders", 1}, bytes{'k'}, headers, "I1", prefix));
  CHECK(base != associated_data({"orders", 0}, std::nullopt, headers, "I1", prefix));
  CHECK(base != associated_data({"orders", 0}, bytes{'k'}, {}, "I1", prefix));
  CHECK(base != associated_data({"orders", 0}, bytes{'k'}, headers, "I2", prefix));
  CHECK(base != associated_data({"orders", 0}, bytes{'k'}, headers, "I1", bytes(envelope_prefix_size, 2)));
  // A topic and key that run into each other cannot stand for another split.
  CHECK(associated_data({"ab", 0}, bytes{'c'}, {}, "I", prefix) !=
        associated_data({"a", 0}, bytes{'b', 'c'}, {}, "I", prefix));
  // The mark of a sealed value is not bound (it is added after sealing).
  auto marked = headers;
  marked.push_back({std::string(sealed_header), bytes{'1'}});
  CHECK(base == associated_data({"orders", 0}, bytes{'k'}, marked, "I1", prefix));
}
