// Fuzzes the decoder of identity histories, `vault::change_history::decode`, and the
// verification of what it decodes (`change_history::verify`, `id`).
//
// Input: an encoded history, as it arrives in a handshake payload or an identity file.
//
// Properties: no crash, no sanitizer report, no allocation out of proportion to the input; a
// decoded history re-encodes to bytes that decode to the same changes and encode again to the
// same bytes; a history that verifies has a non-empty list of changes and names the identifier
// `id()` gives.

#include "fuzz_support.hpp"
#include "nodus/vault/identity.hpp"

using namespace nodus;
using nodus::fuzz::allocation_watch;

namespace {

bool same_change(const vault::identity_change& a, const vault::identity_change& b) {
  return a.version == b.version && a.previous == b.previous && a.public_key == b.public_key &&
         a.created_at == b.created_at && a.self_signature == b.self_signature &&
         a.previous_signature == b.previous_signature;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const byte_view encoded(data, size);
  std::optional<result_or_failure<vault::change_history>> decoded;
  {
    allocation_watch watch;
    decoded.emplace(vault::change_history::decode(encoded));
    watch.check(allocation_watch::decoder_limit(size));
  }
  if (!*decoded) return 0;
  const auto& history = decoded->value();
  const bytes again = history.encode();
  const auto redecoded = vault::change_history::decode(again);
  NODUS_FUZZ_CHECK(redecoded);
  const auto& changes = history.changes();
  const auto& changes_again = redecoded.value().changes();
  NODUS_FUZZ_CHECK(changes.size() == changes_again.size());
  for (std::size_t i = 0; i < changes.size(); ++i) NODUS_FUZZ_CHECK(same_change(changes[i], changes_again[i]));
  NODUS_FUZZ_CHECK(redecoded.value().encode() == again);

  const auto verified = history.verify();
  if (verified) {
    NODUS_FUZZ_CHECK(!changes.empty());
    NODUS_FUZZ_CHECK(verified.value() == history.id());
    NODUS_FUZZ_CHECK(history.primary_public_key() == changes.back().public_key);
  }
  return 0;
}
