// Fuzzes the parsing of the identity payload a peer sends in handshake messages 2 and 3:
// `secure_channel::verify_peer` (services/src/secure_channel/channel_identity.cpp), which
// unpacks [version, history, attestation] and decodes and verifies both parts.
//
// Input: the payload, as it comes out of the Noise message. The static key it must attest is
// fixed (`fuzz_corpus` writes valid payloads for it, from fixed identities).
//
// Properties: no crash, no sanitizer report, no allocation out of proportion to the input; a
// payload that verifies names the identity of its history, which itself verifies, and carries
// an attestation of exactly the presented key.

#include "channel_state.hpp"
#include "fuzz_identities.hpp"
#include "fuzz_support.hpp"

using namespace nodus;
using nodus::fuzz::allocation_watch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The verifying side: an identity of its own, whose vault remembers the histories it has seen
  // (so inputs interact through that store, as a long-running node's handshakes do).
  static const secure_channel::options local{
      .identity =
          secure_channel::channel_identity::create(vault::identity::create(vault::vault::create_in_memory()).value())
              .value(),
      .trust = secure_channel::trust_policy::everyone()};
  static const bytes remote_static = nodus::fuzz::attested_static_key();
  const byte_view payload(data, size);
  allocation_watch watch;
  auto id = secure_channel::verify_peer(payload, remote_static, local);
  watch.check(allocation_watch::decoder_limit(size));
  if (!id) return 0;
  NODUS_FUZZ_CHECK(id.value().size() == 41 && id.value()[0] == 'I');
  return 0;
}
