// Fuzzes the Kafka frame decoders (kafka/include/nodus/kafka/frame.hpp): `decode_request` and
// `decode_response`, which a Kafka portal runs on every frame a client or a broker sends, over
// every API key and version (generated full codecs and pass-through alike).
//
// Input: a config byte, then for a response two bytes choosing the API and version it answers,
// then the frame (the bytes after its 4-byte size).
//   config bit 0   0: a request (its header says which API), 1: a response
//   config bit 1   small limits: max_frame_size 256, max_memory_factor 4
//   response only  byte: index into all_apis() (modulo their number); byte: the version (0-255)
//
// Properties: no crash, no sanitizer report, no single allocation over 64 x input + 128 KiB;
// errors are `malformed` or `too_large` with a reason; a decoded frame is decoded exactly when
// its API and version have a full codec; it encodes to bytes that decode (with the default
// limits: the bytes may be shorter, non-minimal varints written minimally) to the same frame,
// which encode to the same bytes again; its JSON dumps.

#include <optional>

#include "fuzz_support.hpp"
#include "nodus/kafka/frame.hpp"

using namespace nodus;
using namespace nodus::kafka;

namespace {

bool covered(std::int16_t key, std::int16_t version) {
  const auto range = supported_versions(key);
  return range && range->contains(version);
}

template <class Frame, class Decode, class Encode>
void check(const result_or_failure<Frame>& decoded, std::int16_t key, std::int16_t version, Decode decode,
           Encode encode) {
  if (!decoded) {
    const auto& e = decoded.error();
    NODUS_FUZZ_CHECK(e.code == errc::malformed || e.code == errc::too_large);
    NODUS_FUZZ_CHECK(!e.reason.empty());
    return;
  }
  const auto& f = decoded.value();
  NODUS_FUZZ_CHECK(f.decoded() == covered(key, version));
  const bytes once = encode(f);
  const auto again = decode(once);
  NODUS_FUZZ_CHECK(again);
  NODUS_FUZZ_CHECK(again.value() == f);
  NODUS_FUZZ_CHECK(encode(again.value()) == once);
  (void)json::dump(to_json(f));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const auto config = in.u8();
  decode_limits limits;
  if (config & 2) limits = {.max_frame_size = 256, .max_memory_factor = 4};
  if ((config & 1) == 0) {
    const auto frame = in.rest();
    std::optional<result_or_failure<request_frame>> decoded;
    {
      fuzz::allocation_watch watch;
      decoded.emplace(decode_request(frame, limits));
      watch.check(64 * frame.size() + 128 * 1024);
    }
    const auto key = decoded->has_value() ? decoded->value().header.api_key : std::int16_t{0};
    const auto version = decoded->has_value() ? decoded->value().header.api_version : std::int16_t{0};
    check(
        *decoded, key, version, [](byte_view b) { return decode_request(b); },
        [](const request_frame& f) { return encode_request(f); });
    return 0;
  }
  const auto apis = all_apis();
  const auto key = apis[in.u8() % apis.size()].key;
  const auto version = static_cast<std::int16_t>(in.u8());
  const auto frame = in.rest();
  std::optional<result_or_failure<response_frame>> decoded;
  {
    fuzz::allocation_watch watch;
    decoded.emplace(decode_response(frame, key, version, limits));
    watch.check(64 * frame.size() + 128 * 1024);
  }
  check(
      *decoded, key, version, [&](byte_view b) { return decode_response(b, key, version); },
      [](const response_frame& f) { return encode_response(f); });
  return 0;
}
