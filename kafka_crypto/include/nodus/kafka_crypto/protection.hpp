#pragma once
/// What a Kafka inlet does to the records its clients produce and fetch: seal each value on
/// the producer's node, open it on the consumer's, and what to do with a record it cannot open.

#include <memory>
#include <string>
#include <vector>

#include "nodus/kafka_crypto/keys.hpp"

namespace nodus::kafka_crypto {

/// A fetched record that cannot be opened (no key, a key deleted or refused, a failed tag, a
/// malformed envelope, a replay), or a plaintext record in a topic that must be encrypted:
///  - fail: the partition is answered with an error and no records from that batch on;
///  - skip: the record is dropped (its offset is not delivered) and counted;
///  - tag:  the record is delivered as it is in the topic, with a `nodus.undecryptable` header
///          saying why.
/// The client's connection stays open whichever is chosen.
enum class undecryptable_policy { fail, skip, tag };

/// The policy named `fail`, `skip` or `tag`, or `std::errc::invalid_argument`.
result_or_failure<undecryptable_policy> undecryptable_policy_from(std::string_view name);
std::string_view name(undecryptable_policy p) noexcept;

struct protection_options {
  /// Where keys come from; null: records pass as they are (the pass-through portal).
  std::shared_ptr<key_source> keys;
  /// Seal the values of produced records (a producer's inlet).
  bool seal = false;
  /// Open the values of fetched records (a consumer's inlet).
  bool open = false;
  undecryptable_policy undecryptable = undecryptable_policy::fail;
  /// Topics whose plaintext records a consumer's inlet delivers as they are; in every other
  /// topic a record without the envelope header is undecryptable.
  std::vector<std::string> plaintext_topics;
  /// JSON paths (`card.number`) of the only fields sealed in each JSON value; empty: the whole
  /// value is sealed.
  std::vector<std::string> encrypted_fields;
  /// Also report gaps and replays in a `nodus.report` header on the next record delivered.
  bool report_header = false;
};

}  // namespace nodus::kafka_crypto
