// Fuzzes the decoder of the portal protocol (portal/include/nodus/portal/protocol.hpp):
// `portal::decode`, which every inlet's and outlet's connection worker (and every outlet, for
// open requests) runs on what the other end sent.
//
// Input: a message body, decoded as it is.
//
// Properties: no crash, no sanitizer report, no allocation out of proportion to the input;
// errors are `malformed`, `too_large` or `unsupported_version`; a data chunk is borrowed from
// the input, never copied or past its end; a decoded message encodes to bytes that decode to
// the same message, which encode to the same bytes again.

#include <algorithm>
#include <optional>

#include "fuzz_support.hpp"
#include "nodus/portal/protocol.hpp"

using namespace nodus;

namespace {

bool same(const portal::message& a, const portal::message& b) {
  if (a.kind != b.kind || a.value != b.value) return false;
  if (!std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end())) return false;
  return a.kind != portal::message_kind::close || (a.code == b.code && a.reason == b.reason);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const byte_view wire(data, size);
  std::optional<result<portal::message>> decoded;
  {
    fuzz::allocation_watch watch;
    decoded.emplace(portal::decode(wire));
    watch.check(fuzz::allocation_watch::decoder_limit(size));
  }
  if (!*decoded) {
    const auto e = decoded->error();
    NODUS_FUZZ_CHECK(e == errc::malformed || e == errc::too_large || e == errc::unsupported_version);
    return 0;
  }
  const auto& m = decoded->value();
  NODUS_FUZZ_CHECK(m.data.size() <= portal::max_data_bytes && m.reason.size() <= portal::max_reason_bytes);
  if (!m.data.empty()) NODUS_FUZZ_CHECK(m.data.data() >= data && m.data.data() + m.data.size() <= data + size);
  if (m.kind == portal::message_kind::open || m.kind == portal::message_kind::opened)
    NODUS_FUZZ_CHECK(m.value >= 1 && m.value <= portal::max_window_bytes);
  const bytes encoded = portal::encode(m);
  const auto again = portal::decode(encoded);
  NODUS_FUZZ_CHECK(again);
  NODUS_FUZZ_CHECK(same(m, again.value()));
  NODUS_FUZZ_CHECK(portal::encode(again.value()) == encoded);
  return 0;
}
