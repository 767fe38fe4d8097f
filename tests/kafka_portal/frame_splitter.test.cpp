// The Kafka frame splitter: frames cut anywhere by TCP come out whole when held, and byte for
// byte as they came when passed; sizes no Kafka frame has, and held frames over the limit, are
// refused.

#include <doctest/doctest.h>

#include <numeric>

#include "frame_splitter.hpp"

using namespace nodus;
using namespace nodus::kafka_portal::detail;

namespace {

bytes frame_of(std::size_t size, std::uint8_t fill) {
  bytes f{static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
          static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)};
  for (std::size_t i = 0; i < size; ++i) f.push_back(static_cast<std::uint8_t>(fill + i));
  return f;
}

}  // namespace

TEST_CASE("frames cut at every chunk size: held ones come out whole, passed ones unchanged and in order") {
  std::vector<bytes> frames{frame_of(0, 1), frame_of(3, 2), frame_of(1500, 3), frame_of(1, 4), frame_of(5000, 5)};
  bytes stream;
  for (const auto& f : frames) stream.insert(stream.end(), f.begin(), f.end());
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 1024u, 1025u, 4096u, 100000u}) {
    CAPTURE(chunk);
    std::size_t seen = 0;
    // Every frame of odd fill is held, the others passed.
    frame_splitter s(
        [&](byte_view head, std::size_t size) -> result_or_failure<frame_action> {
          const auto& f = frames[seen++];
          CHECK(size == f.size() - 4);
          CHECK(head.size() == std::min<std::size_t>(size, 1024));
          return size % 2 == 1 ? frame_action::hold : frame_action::pass;
        },
        1 << 20);
    std::vector<piece> out;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      const auto n = std::min(chunk, stream.size() - at);
      REQUIRE(s.feed(byte_view(stream).subspan(at, n), out));
    }
    CHECK(seen == frames.size());
    bytes rebuilt;
    for (const auto& p : out) {
      if (p.held) {
        const auto again = frame_of(p.data.size(), 0);  // its size, then the body
        rebuilt.insert(rebuilt.end(), again.begin(), again.begin() + 4);
      }
      rebuilt.insert(rebuilt.end(), p.data.begin(), p.data.end());
    }
    CHECK(rebuilt == stream);
  }
}

TEST_CASE("a size no Kafka frame has, and a held frame over the limit, are refused with the reason") {
  frame_splitter s([](byte_view, std::size_t) -> result_or_failure<frame_action> { return frame_action::hold; }, 100);
  std::vector<piece> out;
  auto huge = s.feed(bytes{0x80, 0x00, 0x00, 0x00}, out);
  REQUIRE(!huge);
  CHECK(huge.error().message() == "a frame size of 2147483648 bytes, over Kafka's limit of 2^31-1");
  frame_splitter t([](byte_view, std::size_t) -> result_or_failure<frame_action> { return frame_action::hold; }, 100);
  auto big = t.feed(frame_of(101, 0), out);
  REQUIRE(!big);
  CHECK(big.error().message() == "a frame of 101 bytes, over the portal's limit of 100 for the frames it reads");
}
