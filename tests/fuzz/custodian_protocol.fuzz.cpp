// Fuzzes the decoders of the key custodian's messages (kafka_crypto/custodian_protocol.hpp):
// `decode_custodian_request` (what a custodian takes from any peer through a secure channel) and
// `decode_custodian_reply` (what a custodian client takes back).
//
// Input: a message body; every input is decoded as both.
//
// Properties: no crash, no sanitizer report, largest allocation within `decoder_limit`; errors
// are `malformed`/`too_large`/`unsupported_version` with a reason; a decoded value re-encodes
// to bytes that decode to the same value.

#include "nodus/kafka_crypto/custodian_protocol.hpp"
#include "fuzz_support.hpp"
#include "nodus/core/error.hpp"

namespace {

using namespace nodus;
using namespace nodus::kafka_crypto;

bool expected_error(const failure& f) {
  return !f.reason.empty() &&
         (f.code == errc::malformed || f.code == errc::too_large || f.code == errc::unsupported_version);
}

void check_request(byte_view wire) {
  auto r = decode_custodian_request(wire);
  if (!r) {
    NODUS_FUZZ_CHECK(expected_error(r.error()));
    return;
  }
  auto again = decode_custodian_request(encode(r.value()));
  NODUS_FUZZ_CHECK(again);
  NODUS_FUZZ_CHECK(again.value().op == r.value().op && again.value().request_id == r.value().request_id &&
                   again.value().topic == r.value().topic && again.value().name == r.value().name);
}

void check_reply(byte_view wire) {
  auto r = decode_custodian_reply(wire);
  if (!r) {
    NODUS_FUZZ_CHECK(expected_error(r.error()));
    return;
  }
  auto again = decode_custodian_reply(encode(r.value()));
  NODUS_FUZZ_CHECK(again);
  NODUS_FUZZ_CHECK(again.value().status == r.value().status && again.value().reason == r.value().reason);
  NODUS_FUZZ_CHECK(again.value().key.has_value() == r.value().key.has_value());
  if (r.value().key) {
    const auto &a = *again.value().key, &b = *r.value().key;
    NODUS_FUZZ_CHECK(a.name == b.name && a.topic == b.topic && a.producer == b.producer && a.created == b.created &&
                     a.timing == b.timing && a.material.size() == data_key_size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nodus::byte_view wire(data, size);
  nodus::fuzz::allocation_watch watch;
  check_request(wire);
  check_reply(wire);
  watch.check(nodus::fuzz::allocation_watch::decoder_limit(size));
  return 0;
}
