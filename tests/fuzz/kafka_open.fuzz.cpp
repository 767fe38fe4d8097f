// Fuzzes what a consumer's inlet does to the records of a Fetch answer (kafka_crypto): reading
// envelopes, opening them, checking sequences, and applying the undecryptable policy, for
// record sets from anywhere.
//
// Input: one config byte, two bytes of position, then a record set. Config bits 0-1 pick the
// policy (fail, skip, tag, tag); with bit 2 set the set is first sealed with the target's key
// (as a producer's inlet would) and the byte at the position then flipped, so that mutations
// reach the envelopes, the AEAD and the sequence tracker past the CRC check.
//
// Properties: no crash, no sanitizer report; opening gives records or an error with a reason;
// what it gives decodes as a record set again, and holds no more records than it was given.

#include <algorithm>

#include "fuzz_support.hpp"
#include "nodus/kafka/records/crc.hpp"
#include "nodus/kafka/records/record_set.hpp"
#include "nodus/kafka_crypto/record_sealing.hpp"

using namespace nodus;
using namespace nodus::kafka_crypto;
namespace records = nodus::kafka::records;

namespace {

const records::decode_limits limits{.max_decompressed_bytes = 256 * 1024};

shared_key the_key() {
  static const shared_key key = [] {
    auto k = std::make_shared<data_key>();
    k->name.fill(0x42);
    k->topic = "t";
    k->producer = "Ifuzz";
    k->created = clock_type::time_point(std::chrono::hours(24 * 365 * 50));
    k->material = vault::secret(bytes(32, 7));
    return k;
  }();
  return key;
}

std::size_t record_count(const records::record_set& set) {
  std::size_t n = 0;
  for (const auto& e : set.entries)
    if (const auto* b = std::get_if<records::record_batch>(&e)) n += b->records.size();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const auto config = in.u8();
  const auto position = in.u16();
  const auto rest = in.rest();
  bytes wire(rest.begin(), rest.end());
  const auto key = the_key();
  const auto now = key->created + std::chrono::minutes(90);
  if (config & 4) {
    record_sealer sealer;
    auto sealed = sealer.seal(wire, {"t", 0}, *key, now);
    if (!sealed) return 0;
    wire = std::move(sealed.value());
    if (!wire.empty()) wire[position % wire.size()] ^= 0x01;
  }
  auto set = records::decode_record_set(wire, limits);
  if (!set) return 0;
  const auto given = record_count(set.value());
  static const auto policies = std::array{undecryptable_policy::fail, undecryptable_policy::skip,
                                          undecryptable_policy::tag, undecryptable_policy::tag};
  record_opener opener(std::make_shared<sequence_tracker>(16), policies[config & 3], {});
  const key_lookup lookup = [&](const key_name& n) -> result_or_failure<shared_key> {
    if (n == key->name) return key;
    return fail(make_error_code(key_error::deleted), "no such key");
  };
  open_counts counts;
  auto opened = opener.open(set.value(), {"t", 0}, lookup, counts);
  if (!opened) {
    NODUS_FUZZ_CHECK(!opened.error().message().empty());
    return 0;
  }
  auto again = records::decode_record_set(opened.value().records, limits);
  NODUS_FUZZ_CHECK(again.has_value());
  NODUS_FUZZ_CHECK(record_count(again.value()) <= given);
  return 0;
}
