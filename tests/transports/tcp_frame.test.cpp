#include "nodus/transports/tcp_frame.hpp"

#include <algorithm>
#include <cstring>

#include <doctest/doctest.h>

using namespace nodus;

namespace {

transport_message sample(std::size_t payload_size = 5) {
  return transport_message{route{"echoer"}, route{"tcp.in.1", "app"}, bytes(payload_size, 'x')};
}

// A whole frame: its head, then its payload.
bytes frame_of(const transport_message& m, std::size_t max = tcp_frame::default_max_size) {
  bytes out;
  REQUIRE(tcp_frame::append_head(m, max, out));
  out.insert(out.end(), m.payload.begin(), m.payload.end());
  return out;
}

bytes stream_of(const std::vector<transport_message>& messages) {
  bytes out{tcp_frame::protocol_version};
  for (const auto& m : messages) {
    const auto f = frame_of(m);
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

// Writes `data` into the decoder as a socket would, at most `piece` bytes per read, and returns
// every frame it hands out, decoded.
std::vector<transport_message> decode_in_pieces(const bytes& stream, std::size_t piece) {
  tcp_frame::decoder decoder;
  std::vector<transport_message> out;
  for (std::size_t at = 0; at < stream.size();) {
    const auto into = decoder.buffer();
    REQUIRE_FALSE(into.empty());
    const auto n = std::min({piece, stream.size() - at, into.size()});
    std::memcpy(into.data(), stream.data() + at, n);
    at += n;
    REQUIRE(decoder.commit(n));
    for (;;) {
      auto frame = decoder.next_frame();
      REQUIRE(frame);
      if (!frame.value()) break;
      auto m = tcp_frame::decode(std::move(*frame.value()));
      REQUIRE(m);
      out.push_back(std::move(m).value());
    }
  }
  CHECK_FALSE(decoder.in_frame());
  return out;
}

result<> commit_bytes(tcp_frame::decoder& decoder, const bytes& data) {
  auto into = decoder.buffer();
  REQUIRE(into.size() >= data.size());
  std::memcpy(into.data(), data.data(), data.size());
  return decoder.commit(data.size());
}

}  // namespace

TEST_CASE("a frame is a big-endian length followed by the encoded message") {
  const auto out = frame_of(sample());
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
  // Small frames are staged; the 70 000 and 200 000-byte ones are too big and read in place.
  const std::vector<transport_message> sent{sample(0), sample(5), sample(70000), sample(1), sample(200000), sample(2)};
  const auto stream = stream_of(sent);
  SUBCASE("in reads as large as the decoder offers") { CHECK(decode_in_pieces(stream, stream.size()) == sent); }
  SUBCASE("one byte at a time, so every length prefix is split") { CHECK(decode_in_pieces(stream, 1) == sent); }
  SUBCASE("in pieces of 3 bytes") { CHECK(decode_in_pieces(stream, 3) == sent); }
  SUBCASE("in pieces of 4099 bytes") { CHECK(decode_in_pieces(stream, 4099) == sent); }
}

TEST_CASE("many small frames in one read all come out") {
  std::vector<transport_message> sent;
  for (std::size_t i = 0; i < 500; ++i) sent.push_back(sample(i % 7));
  CHECK(decode_in_pieces(stream_of(sent), 65536) == sent);
}

TEST_CASE("a partial frame waits for the rest") {
  const auto stream = stream_of({sample()});
  tcp_frame::decoder decoder;
  REQUIRE(commit_bytes(decoder, bytes(stream.begin(), stream.end() - 1)));
  CHECK(decoder.next_frame().value() == std::nullopt);
  CHECK(decoder.in_frame());
  REQUIRE(commit_bytes(decoder, bytes(stream.end() - 1, stream.end())));
  CHECK(decoder.next_frame().value().has_value());
  CHECK_FALSE(decoder.in_frame());
}

TEST_CASE("a large frame's payload is read apart from its head, and decodes the same") {
  const auto m = sample(100000);
  const auto stream = stream_of({m});
  tcp_frame::decoder decoder;
  std::optional<tcp_frame::frame> received;
  for (std::size_t at = 0; at < stream.size() && !received;) {
    const auto into = decoder.buffer();
    const auto n = std::min(into.size(), stream.size() - at);
    std::memcpy(into.data(), stream.data() + at, n);
    at += n;
    REQUIRE(decoder.commit(n));
    received = decoder.next_frame().value();
  }
  REQUIRE(received);
  REQUIRE(received->payload);
  CHECK(received->payload->size() == 100000);
  CHECK(received->body.size() < 100);  // only the head
  CHECK(tcp_frame::decode(std::move(*received)).value() == m);
}

TEST_CASE("a wrong protocol version byte is refused") {
  tcp_frame::decoder decoder;
  auto committed = commit_bytes(decoder, bytes{2, 0, 0, 0, 1, 0});
  REQUIRE_FALSE(committed);
  CHECK(committed.error() == errc::unsupported_version);
  CHECK(decoder.version_received() == 2);
  CHECK_FALSE(decoder.next_frame());  // the error is final
}

TEST_CASE("a length prefix over the limit is refused before its body arrives") {
  tcp_frame::decoder decoder(1024);
  REQUIRE(commit_bytes(decoder, bytes{tcp_frame::protocol_version, 0, 0, 4, 1}));  // 1025
  auto frame = decoder.next_frame();
  REQUIRE_FALSE(frame);
  CHECK(frame.error() == errc::too_large);
  CHECK_FALSE(decoder.next_frame());
}

TEST_CASE("a frame at exactly the limit passes; one byte more does not") {
  const auto m = sample(1000);
  const auto size = encode(m).size();
  bytes out;
  CHECK(tcp_frame::append_head(m, size, out));
  const auto before = out.size();
  auto refused = tcp_frame::append_head(m, size - 1, out);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::too_large);
  CHECK(out.size() == before);  // nothing half-written
}

TEST_CASE("a frame declared at 16 MiB of which 5 bytes have arrived holds a few KiB, not 16 MiB") {
  tcp_frame::decoder decoder;
  // The version byte, a length prefix of 16 MiB, one byte of the body: what an attacker sends.
  REQUIRE(commit_bytes(decoder, bytes{tcp_frame::protocol_version, 1, 0, 0, 0, 0x94}));
  CHECK(decoder.next_frame().value() == std::nullopt);
  CHECK(decoder.in_frame());
  CHECK(decoder.buffered_capacity() <= tcp_frame::decoder::staging_start);
  CHECK(decoder.large_frame_capacity() == 0);
}

namespace {

// Feeds `stream` in pieces of at most `piece` bytes and checks after every read that what the
// decoder holds for the frame in progress is at most twice what has arrived of it, plus the
// first buffer's few KiB. Returns the one frame it hands out.
tcp_frame::frame receive_checking_memory(const bytes& stream, std::size_t piece) {
  tcp_frame::decoder decoder;
  for (std::size_t at = 0; at < stream.size();) {
    const auto into = decoder.buffer();
    REQUIRE_FALSE(into.empty());
    const auto n = std::min({piece, stream.size() - at, into.size()});
    std::memcpy(into.data(), stream.data() + at, n);
    at += n;
    REQUIRE(decoder.commit(n));
    auto frame = decoder.next_frame();
    REQUIRE(frame);
    if (frame.value()) return std::move(*frame.value());
    const auto received = at - 1;  // all but the version byte belong to the frame
    INFO("received ", received, " bytes");
    REQUIRE(decoder.large_frame_capacity() <= 2 * received + tcp_frame::decoder::first_large_buffer);
    REQUIRE(decoder.buffered_capacity() <= tcp_frame::decoder::staging_size + decoder.large_frame_capacity());
  }
  FAIL("no frame came out");
  return {};
}

}  // namespace

TEST_CASE("a large frame's buffers grow with the bytes that arrive, and its payload is still handed over apart") {
  const auto m = sample(8 * 1024 * 1024);
  const auto stream = stream_of({m});
  for (const std::size_t piece : {std::size_t{1000}, std::size_t{65536}, std::size_t{1} << 20}) {
    CAPTURE(piece);
    auto received = receive_checking_memory(stream, piece);
    REQUIRE(received.payload);
    CHECK(received.payload->size() == m.payload.size());
    CHECK(received.payload->capacity() == m.payload.size());  // exactly: the message keeps this buffer
    CHECK(received.body.size() < 100);
    CHECK(tcp_frame::decode(std::move(received)).value() == m);
  }
}

TEST_CASE("a large frame with no sound head grows the same way and is refused when whole") {
  bytes stream{tcp_frame::protocol_version, 0, 0x10, 0, 0};  // 1 MiB of bytes that are not msgpack
  stream.resize(stream.size() + 1024 * 1024, 0xc1);
  auto received = receive_checking_memory(stream, 10000);
  CHECK_FALSE(received.payload);
  CHECK(received.body.size() == 1024 * 1024);
  CHECK_FALSE(tcp_frame::decode(std::move(received)));
}

TEST_CASE("the staging area grows for a busy stream and stays small for a quiet one") {
  tcp_frame::decoder quiet;
  REQUIRE(commit_bytes(quiet, stream_of({sample(), sample()})));
  while (quiet.next_frame().value()) {}
  (void)quiet.buffer();
  CHECK(quiet.buffered_capacity() == tcp_frame::decoder::staging_start);

  // Reads that fill all the room offered, as from a socket with much waiting in it.
  const auto stream = stream_of(std::vector<transport_message>(5000, sample(20)));
  tcp_frame::decoder busy;
  std::size_t frames = 0;
  for (std::size_t at = 0; at < stream.size();) {
    const auto into = busy.buffer();
    const auto n = std::min(into.size(), stream.size() - at);
    std::memcpy(into.data(), stream.data() + at, n);
    at += n;
    REQUIRE(busy.commit(n));
    while (busy.next_frame().value()) ++frames;
  }
  CHECK(frames == 5000);
  CHECK(busy.buffered_capacity() == tcp_frame::decoder::staging_size);
}
