// Fuzzes the decoder of attestations, `vault::attestation::decode`, and `verify_attestation` of
// what it decodes against a fixed, valid history.
//
// Input: an encoded attestation, as it arrives in a handshake payload.
//
// Properties: no crash, no sanitizer report, no allocation out of proportion to the input; a
// decoded attestation re-encodes to bytes that decode to the same fields and encode again to
// the same bytes; one that verifies is about the presented key, is of content version 2, is
// bound to the history's latest change and has
// not expired at the time of the check.

#include "fuzz_identities.hpp"
#include "fuzz_support.hpp"
#include "nodus/vault/identity.hpp"

using namespace nodus;
using nodus::fuzz::allocation_watch;

namespace {

bool same(const vault::attestation& a, const vault::attestation& b) {
  return a.version == b.version && a.change_hash == b.change_hash && a.subject_key == b.subject_key &&
         a.expires_at == b.expires_at && a.signature == b.signature;
}

// The time of the checks: fixed, so a run does not depend on the clock.
const auto checked_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto history = nodus::fuzz::history_of(nodus::fuzz::fixed_identity(2));
  const byte_view encoded(data, size);
  std::optional<result_or_failure<vault::attestation>> decoded;
  {
    allocation_watch watch;
    decoded.emplace(vault::attestation::decode(encoded));
    watch.check(allocation_watch::decoder_limit(size));
  }
  if (!*decoded) return 0;
  const auto& a = decoded->value();
  const bytes again = a.encode();
  const auto redecoded = vault::attestation::decode(again);
  NODUS_FUZZ_CHECK(redecoded && same(redecoded.value(), a));
  NODUS_FUZZ_CHECK(redecoded.value().encode() == again);

  const bytes presented = nodus::fuzz::attested_static_key();
  const auto verified = vault::verify_attestation(history, a, presented, checked_at);
  if (verified) {
    NODUS_FUZZ_CHECK(a.subject_key == presented && a.version == 2);
    NODUS_FUZZ_CHECK(a.change_hash == vault::sha256(history.changes().back().signed_content()));
    NODUS_FUZZ_CHECK(a.expires_at > 1'800'000'000);
    NODUS_FUZZ_CHECK(verified.value() == history.id());
  }
  return 0;
}
