// Fuzzes the parsing of the identity payload a peer sends in handshake messages 2 and 3:
// `secure_channel::verify_peer` (secure_channel/src/channel_identity.cpp), which unpacks
// [version, history, attestation] or [version, history, attestation, credential] and decodes and
// verifies the parts (the credential is passed to a verifier that looks at its size only: the
// credential's own decoder is fuzzed in authority_protocol).
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
  // The same side requiring a credential: any bytes of at most 64 KiB pass its verifier.
  static const secure_channel::options members = [] {
    auto o = local;
    o.credentials.verify = [](byte_view credential,
                              const vault::identifier&) -> result_or_failure<secure_channel::verified_credential> {
      return secure_channel::verified_credential{{{"size", std::to_string(credential.size())}},
                                                 std::chrono::system_clock::time_point::max()};
    };
    return o;
  }();
  static const bytes remote_static = nodus::fuzz::attested_static_key();
  const byte_view payload(data, size);
  allocation_watch watch;
  auto id = secure_channel::verify_peer(payload, remote_static, local);
  auto member = secure_channel::verify_peer(payload, remote_static, members);
  watch.check(allocation_watch::decoder_limit(size));
  if (member) {
    NODUS_FUZZ_CHECK(member.value().credential);
    NODUS_FUZZ_CHECK(std::stoul(member.value().credential->attributes.at("size")) <= size);
  }
  if (!id) return 0;
  NODUS_FUZZ_CHECK(id.value().id.size() == 41 && id.value().id[0] == 'I');
  NODUS_FUZZ_CHECK(!id.value().credential);
  return 0;
}
