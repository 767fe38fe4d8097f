// The portal protocol's codec on its own: bytes in, a message or an error out.

#include "nodus/portal/protocol.hpp"

#include <doctest/doctest.h>

#include <msgpack.hpp>

#include "nodus/core/message_codec.hpp"

using namespace nodus;
using namespace nodus::portal;

namespace {

bytes pack(const msgpack::type::tuple<int, int, int>& t) {
  return message_codec<msgpack::type::tuple<int, int, int>>::encode(t);
}

template <class T>
bytes pack_value(const T& v) {
  return message_codec<T>::encode(v);
}

}  // namespace

TEST_CASE("every kind of message survives encode and decode") {
  const bytes chunk{1, 2, 3, 0, 255};
  message data{.kind = message_kind::data, .value = 1u << 20, .data = chunk};
  const message all[] = {
      message::open(256 * 1024),
      message::opened(1),
      data,
      message::ack(12345),
      message::eof(1ull << 40),
      message::ping(),
      message::close(close_code::connect_failed, "cannot connect to its target: Connection refused")};
  for (const auto& m : all) {
    const auto wire = encode(m);
    auto back = decode(wire);
    REQUIRE_MESSAGE(back, back.error().message());
    CHECK(back.value().kind == m.kind);
    CHECK(back.value().value == m.value);
    CHECK(bytes(back.value().data.begin(), back.value().data.end()) == bytes(m.data.begin(), m.data.end()));
    CHECK(back.value().reason == m.reason);
    if (m.kind == message_kind::close) CHECK(back.value().code == m.code);
  }
}

TEST_CASE("a data message is its fixed head and then the chunk, which the decoder lends in place") {
  const bytes chunk(1000, 0x5a);
  const message m{.kind = message_kind::data, .value = 77, .data = chunk};
  const auto wire = encode(m);
  REQUIRE(wire.size() == data_head_size + chunk.size());
  bytes head(data_head_size);
  data_head(77, chunk.size(), head.data());
  CHECK(bytes(wire.begin(), wire.begin() + data_head_size) == head);
  auto back = decode(wire);
  REQUIRE(back);
  CHECK(back.value().data.data() == wire.data() + data_head_size);  // not copied
  CHECK(back.value().data.size() == chunk.size());
}

TEST_CASE("the decoder refuses anything else, with the error saying what") {
  CHECK(decode(bytes{}).error() == errc::malformed);
  CHECK(decode(bytes{0xc1}).error() == errc::malformed);                      // not msgpack
  CHECK(decode(pack_value(std::string("open"))).error() == errc::malformed);  // not an array
  CHECK(decode(pack({2, 1, 100})).error() == errc::unsupported_version);
  CHECK(decode(pack({1, 99, 100})).error() == errc::malformed);  // unknown kind
  CHECK(decode(pack({1, 1, 0})).error() == errc::malformed);     // a window of 0
  CHECK(decode(pack({1, 7, 0})).error() == errc::malformed);     // a ping has no field
  CHECK(decode(pack({1, 3, 0})).error() == errc::malformed);     // data without its chunk
  CHECK(decode(pack({1, -4, 1})).error() == errc::malformed);    // a negative kind
  CHECK(decode(pack({1, 257, 1})).error() == errc::malformed);   // a kind that is 1 modulo 256
  CHECK(decode(pack({1, 1, 1 << 30})).has_value());              // the largest window
  CHECK(decode(pack_value(msgpack::type::tuple<int, int, long long>(1, 1, (1ll << 30) + 1))).error() ==
        errc::too_large);

  auto wire = encode(message::ack(5));
  wire.push_back(0);  // trailing bytes
  CHECK(decode(wire).error() == errc::malformed);

  // A data message whose declared chunk is longer than what follows.
  auto data = encode(message{.kind = message_kind::data, .value = 0, .data = bytes(10, 1)});
  data.pop_back();
  CHECK_FALSE(decode(data));

  // Over the limits: a chunk, a reason.
  const bytes big(max_data_bytes + 1, 0);
  CHECK(decode(encode(message{.kind = message_kind::data, .data = big})).error() == errc::too_large);
  const auto long_reason =
      pack_value(msgpack::type::tuple<int, int, int, std::string>(1, 6, 1, std::string(2000, 'x')));
  CHECK(decode(long_reason).error() == errc::too_large);
}

TEST_CASE("a close code this build does not know still decodes, and is described by number") {
  const auto wire = pack_value(msgpack::type::tuple<int, int, int, std::string>(1, 6, 200, "from the future"));
  auto back = decode(wire);
  REQUIRE(back);
  CHECK(static_cast<int>(back.value().code) == 200);
  CHECK(describe(back.value().code) == "unknown reason");
  CHECK(describe(close_code::connect_failed) == "connect failed");
  CHECK(encode(back.value()) == wire);
}

TEST_CASE("a close reason is cut to the limit when encoded") {
  const auto m = message::close(close_code::reset, std::string(max_reason_bytes + 10, 'r'));
  auto back = decode(encode(m));
  REQUIRE(back);
  CHECK(back.value().reason.size() == max_reason_bytes);
}
