// Fuzzes the decoders of the relay registration messages (services/include/nodus/relay/relay.hpp):
// `message_codec<relay_request>` (what the hub's forwarding service takes from any client) and
// `message_codec<relay_reply>` (what a relay client takes back).
//
// Input: a message body; every input is decoded as both types.
//
// Properties (fuzz_codec.hpp): no crash, no sanitizer report, no allocation out of proportion
// to the input, errors are `malformed` or `too_large`, and a decoded value survives a round trip.

#include "fuzz_codec.hpp"
#include "nodus/relay/relay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nodus::byte_view wire(data, size);
  nodus::fuzz::check_codec<nodus::relay::relay_request>(wire);
  nodus::fuzz::check_codec<nodus::relay::relay_reply>(wire);
  return 0;
}
