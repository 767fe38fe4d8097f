#include "nodus/transports/tcp_frame.hpp"

#include <doctest/doctest.h>

using namespace nodus;

namespace {

transport_message sample(std::size_t payload_size = 5) {
  return transport_message{route{"echoer"}, route{"tcp.in.1", "app"}, bytes(payload_size, 'x')};
}

bytes stream_of(const std::vector<transport_message>& messages) {
  bytes out{tcp_frame::protocol_version};
  for (const auto& m : messages) REQUIRE(tcp_frame::append(m, tcp_frame::default_max_size, out));
  return out;
}

// Feeds `stream` in pieces of `piece` bytes and returns every frame, decoded.
std::vector<transport_message> decode_in_pieces(const bytes& stream, std::size_t piece) {
  tcp_frame::decoder decoder;
  std::vector<transport_message> out;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    const auto n = std::min(piece, stream.size() - at);
    REQUIRE(decoder.feed(byte_view(stream.data() + at, n)));
    for (;;) {
      auto frame = decoder.next_frame();
      REQUIRE(frame);
      if (!frame.value()) break;
      auto m = decode_transport_message(*frame.value());
      REQUIRE(m);
      out.push_back(std::move(m).value());
    }
  }
  CHECK_FALSE(decoder.in_frame());
  return out;
}

}  // namespace

TEST_CASE("a frame is a big-endian length followed by the encoded message") {
  bytes out;
  REQUIRE(tcp_frame::append(sample(), tcp_frame::default_max_size, out));
  const auto body = encode(sample());
  REQUIRE(out.size() == 4 + body.size());
  CHECK(out[0] == 0);
  CHECK(out[1] == 0);
  CHECK(out[2] == 0);
  CHECK(out[3] == body.size());
  CHECK(bytes(out.begin() + 4, out.end()) == body);
}

TEST_CASE("body_size predicts the frame body after the first hop is stripped") {
  local_message m{route{"tcp.out.1", "echoer"}, route{"app"}, bytes(300, 'p'), {}};
  auto predicted = tcp_frame::body_size(m);
  (void)m.onward_route.step();
  CHECK(predicted == encode(to_transport_message(m)).size());
}

TEST_CASE("frames come out whole however the stream is cut") {
  const std::vector<transport_message> sent{sample(0), sample(5), sample(70000), sample(1)};
  const auto stream = stream_of(sent);
  SUBCASE("all at once") { CHECK(decode_in_pieces(stream, stream.size()) == sent); }
  SUBCASE("one byte at a time, so every length prefix is split") { CHECK(decode_in_pieces(stream, 1) == sent); }
  SUBCASE("in pieces of 3 bytes") { CHECK(decode_in_pieces(stream, 3) == sent); }
  SUBCASE("in pieces of 4099 bytes") { CHECK(decode_in_pieces(stream, 4099) == sent); }
}

TEST_CASE("a partial frame waits for the rest") {
  const auto stream = stream_of({sample()});
  tcp_frame::decoder decoder;
  REQUIRE(decoder.feed(byte_view(stream.data(), stream.size() - 1)));
  CHECK(decoder.next_frame().value() == std::nullopt);
  CHECK(decoder.in_frame());
  REQUIRE(decoder.feed(byte_view(stream.data() + stream.size() - 1, 1)));
  CHECK(decoder.next_frame().value().has_value());
  CHECK_FALSE(decoder.in_frame());
}

TEST_CASE("a wrong protocol version byte is refused") {
  tcp_frame::decoder decoder;
  const bytes stream{2, 0, 0, 0, 1, 0};
  auto fed = decoder.feed(stream);
  REQUIRE_FALSE(fed);
  CHECK(fed.error() == errc::unsupported_version);
  CHECK_FALSE(decoder.feed(stream));  // the error is final
}

TEST_CASE("a length prefix over the limit is refused before its body arrives") {
  tcp_frame::decoder decoder(1024);
  const bytes stream{tcp_frame::protocol_version, 0, 0, 4, 1};  // 1025
  REQUIRE(decoder.feed(stream));
  auto frame = decoder.next_frame();
  REQUIRE_FALSE(frame);
  CHECK(frame.error() == errc::too_large);
  CHECK_FALSE(decoder.next_frame());
}

TEST_CASE("a frame at exactly the limit passes; one byte more does not") {
  const auto m = sample(1000);
  const auto size = encode(m).size();
  bytes out;
  CHECK(tcp_frame::append(m, size, out));
  const auto before = out.size();
  auto refused = tcp_frame::append(m, size - 1, out);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::too_large);
  CHECK(out.size() == before);  // nothing half-written
}
