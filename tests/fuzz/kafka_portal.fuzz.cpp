// Fuzzes what a Kafka portal does with the bytes of a client's connection
// (kafka_portal/src: frame_splitter, request_tracker, response_rewrite), the way the inlet's
// filter does it: requests are cut into frames and tracked; answers are cut into frames, matched
// to their requests, and those that name brokers or offer versions are read, rewritten and
// written again.
//
// Input: one byte of chunk size (TCP cuts the stream anywhere), then requests and answers
// interleaved: each part starts with a byte whose low bit says which stream it goes to (0:
// requests) and two bytes of length (big-endian), then that many bytes.
//
// Properties besides no crash / no UB: every failure has a reason; a frame passed on comes out
// byte for byte; a rewritten answer names only the rewritten addresses and reads back as what
// was written; the largest allocation stays within a bound of the input's size (held frames are
// refused over the limit given).

#include <cstdint>
#include <string>
#include <vector>

#include "frame_splitter.hpp"
#include "fuzz_support.hpp"
#include "nodus/kafka/api.hpp"
#include "nodus/kafka/frame.hpp"
#include "request_tracker.hpp"
#include "response_rewrite.hpp"

using namespace nodus;
using namespace nodus::kafka_portal::detail;
using nodus::fuzz::allocation_watch;

namespace {

constexpr std::size_t max_held = 1 << 16;

struct simulated_inlet {
  request_tracker tracker;
  std::vector<tracked_request> held;
  bool failed = false;

  frame_splitter requests{[this](byte_view head, std::size_t size) -> result_or_failure<frame_action> {
                            auto h = read_request_head(head, head.size() == size);
                            if (!h) return h.error();
                            if (!h.value()) return frame_action::hold;
                            if (auto sent = tracker.sent(*h.value()); !sent) return sent.error();
                            return frame_action::pass;
                          },
                          max_held};
  frame_splitter answers{
      [this](byte_view head, std::size_t) -> result_or_failure<frame_action> {
        auto id = response_correlation_id(head);
        if (!id) return id.error();
        auto r = tracker.answered(id.value());
        if (!r) return r.error();
        if (r.value().api_key != api_key::api_versions && !names_brokers(r.value().api_key, r.value().api_version))
          return frame_action::pass;
        held.push_back(r.value());
        return frame_action::hold;
      },
      max_held, 4};

  void answer(const piece& p, const tracked_request& r) {
    auto frame = kafka::decode_response(p.data, r.api_key, r.api_version, {.max_frame_size = max_held});
    if (!frame) {
      NODUS_FUZZ_CHECK(!frame.error().message().empty());
      return;
    }
    auto& body = frame.value().body;
    if (auto* versions = std::get_if<kafka::api_versions_response>(&body)) {
      restrict_versions(*versions);
      for (const auto& k : versions->api_keys) {
        NODUS_FUZZ_CHECK(kafka::find_api(k.api_key) != nullptr);
        NODUS_FUZZ_CHECK(k.min_version <= k.max_version);
      }
    }
    const auto named = brokers_named(body);
    rewrite_brokers(
        body, [](std::int32_t id) { return std::pair<std::string, std::int32_t>("127.0.0.1", 4000 + (id & 0xff)); });
    for (const auto& b : brokers_named(body)) NODUS_FUZZ_CHECK(b.host == "127.0.0.1");
    NODUS_FUZZ_CHECK(brokers_named(body).size() <= named.size());
    const auto written = kafka::encode_response(frame.value());
    auto again = kafka::decode_response(written, r.api_key, r.api_version, {.max_frame_size = 1 << 24});
    NODUS_FUZZ_CHECK(again);
    NODUS_FUZZ_CHECK(again.value() == frame.value());
  }

  void feed(bool request, byte_view chunk) {
    if (failed) return;
    std::vector<piece> out;
    auto fed = request ? requests.feed(chunk, out) : answers.feed(chunk, out);
    if (!fed) {
      NODUS_FUZZ_CHECK(!fed.error().message().empty());
      failed = true;
      return;
    }
    std::size_t next_held = 0;
    for (const auto& p : out) {
      if (!p.held || request) continue;
      NODUS_FUZZ_CHECK(next_held < held.size());
      answer(p, held[next_held++]);
    }
    if (!request) held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(next_held));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::size_t chunk = 1 + in.u8();
  allocation_watch watch;
  simulated_inlet inlet;
  while (!in.empty()) {
    const bool request = (in.u8() & 1) == 0;
    const auto part = in.take(in.u16());
    for (std::size_t at = 0; at < part.size(); at += chunk)
      inlet.feed(request, part.subspan(at, std::min(chunk, part.size() - at)));
  }
  watch.check(allocation_watch::decoder_limit(size) + 2 * max_held);
  return 0;
}
