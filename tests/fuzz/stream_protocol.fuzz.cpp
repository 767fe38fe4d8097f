// Fuzzes the decoders of the stream protocol (services/include/nodus/stream/protocol.hpp):
// `message_codec<T>::decode` for the requests the hub's stream services take (`stream_request`,
// `index_request`) and the replies a stream client takes (`stream_reply`, `readers_reply`,
// `index_reply`), and the records a members-only hub reads back from its stream owners' topic
// (`stream_kafka::owner_record`).
//
// Input: a message body; every input is decoded as each of the six types.
//
// Properties (fuzz_codec.hpp): no crash, no sanitizer report, no allocation out of proportion
// to the input, errors are `malformed` or `too_large`, and a decoded value survives a round trip.

#include "fuzz_codec.hpp"
#include "nodus/stream/protocol.hpp"
#include "nodus/stream_kafka/owner_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nodus::byte_view wire(data, size);
  nodus::fuzz::check_codec<nodus::stream::stream_request>(wire);
  nodus::fuzz::check_codec<nodus::stream::index_request>(wire);
  nodus::fuzz::check_codec<nodus::stream::stream_reply>(wire);
  nodus::fuzz::check_codec<nodus::stream::readers_reply>(wire);
  nodus::fuzz::check_codec<nodus::stream::index_reply>(wire);
  nodus::fuzz::check_codec<nodus::stream_kafka::owner_record>(wire);
  return 0;
}
