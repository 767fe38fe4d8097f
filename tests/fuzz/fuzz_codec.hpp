#pragma once
// The check shared by the targets of msgpack-defined protocol messages: decoding any bytes
// through `message_codec<T>` and, when that succeeds, a round trip.

#include <optional>

#include "fuzz_support.hpp"
#include "nodus/core/message_codec.hpp"

namespace nodus::fuzz {

/// Decodes `wire` as a T. No crash, no sanitizer report, no allocation out of proportion to
/// the input; a T that decodes encodes to bytes that decode again, and encode again to the
/// same bytes (the values survive the round trip).
template <class T>
void check_codec(byte_view wire) {
  std::optional<result<T>> decoded;
  {
    allocation_watch watch;
    decoded.emplace(message_codec<T>::decode(wire));
    watch.check(allocation_watch::decoder_limit(wire.size()));
  }
  if (!*decoded) {
    NODUS_FUZZ_CHECK(decoded->error() == errc::malformed || decoded->error() == errc::too_large);
    return;
  }
  const bytes encoded = message_codec<T>::encode(decoded->value());
  const auto again = message_codec<T>::decode(encoded);
  NODUS_FUZZ_CHECK(again);
  NODUS_FUZZ_CHECK(message_codec<T>::encode(again.value()) == encoded);
}

}  // namespace nodus::fuzz
