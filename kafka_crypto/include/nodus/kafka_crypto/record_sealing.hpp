#pragma once
/// Sealing the record values of a Produce request's record set (on the producer's node) and
/// opening those of a Fetch response's (on the consumer's), once the keys are at hand. Pure: no
/// I/O, no waiting; the portal fetches the keys first (`keys_named`, `key_source`).
///
/// Kept as they were: keys, headers, timestamps, offset deltas, producer id and epoch, base
/// sequence, the transactional and control bits, and each batch's codec (a batch is
/// decompressed, its values sealed or opened, and compressed again with the same codec; its CRC
/// is computed anew). Tombstones (null values) stay null; control batches and empty batches are
/// not touched.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/record_set.hpp"
#include "nodus/kafka_crypto/envelope.hpp"
#include "nodus/kafka_crypto/protection.hpp"
#include "nodus/kafka_crypto/sequence_tracker.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::kafka_crypto {

using clock_type = std::chrono::system_clock;

/// The rekey counter of `key` at `now`: whole rekey periods since it was made (0 before).
std::uint32_t rekey_counter(const data_key& key, clock_type::time_point now) noexcept;

/// The AEAD ciphers of (data key, rekey counter), each derived once with HKDF-SHA256 (salt: the
/// data key; info: a label and the counter) through an in-memory vault. Not thread-safe: one per
/// connection. Holds at most `max_ciphers` (the oldest are dropped first).
class cipher_cache {
public:
  explicit cipher_cache(std::size_t max_ciphers = 64);
  result_or_failure<vault::aead_cipher*> cipher(const data_key& key, std::uint32_t counter);

private:
  std::shared_ptr<vault::vault> vault_;
  std::map<std::pair<key_name, std::uint32_t>, vault::aead_cipher> ciphers_;
  std::vector<std::pair<key_name, std::uint32_t>> order_;
  std::size_t max_ciphers_;
};

/// What one producer connection seals with: its session, the next sequence number per topic
/// and partition, and the batches it sealed for idempotent producers, so that a batch the client
/// sends again (a retry: the same producer id, epoch and base sequence) goes out as the same
/// bytes and the broker's deduplication keeps one copy. Not thread-safe: one per connection.
class record_sealer {
public:
  /// `encrypted_fields`: the JSON paths to seal alone in JSON object values (the rest of the
  /// value stays readable); empty, or a value that is not a JSON object with one of them: the
  /// whole value is sealed.
  explicit record_sealer(std::vector<std::string> encrypted_fields = {});

  /// The record set `records` of `place` with every value sealed with `key` at `now`.
  /// Fails (`errc::not_supported`) for legacy messages (magic 0 or 1), which cannot carry the
  /// header, and with the record set's decoding errors.
  result_or_failure<bytes> seal(byte_view records, const record_place& place, const data_key& key,
                                clock_type::time_point now);

  const session_id& session() const noexcept { return session_; }
  /// Values sealed so far.
  std::uint64_t sealed() const noexcept { return sealed_; }

private:
  using place_key = std::pair<std::string, std::int32_t>;
  struct retry_key {
    place_key place;
    std::int64_t producer_id;
    std::int16_t producer_epoch;
    std::int32_t base_sequence;
    auto operator<=>(const retry_key&) const = default;
  };
  result_or_failure<> seal_batch(kafka::records::record_batch& batch, const record_place& place, const data_key& key,
                                 clock_type::time_point now);

  // Seals the fields of `r`'s JSON value; false when it has none of them (seal the whole value).
  result_or_failure<bool> seal_fields(kafka::records::record& r, const record_place& place, const data_key& key,
                                      std::uint32_t counter, std::uint64_t& next, vault::aead_cipher& cipher);

  std::vector<std::string> fields_;
  session_id session_{};
  std::map<place_key, std::uint64_t> next_sequence_;
  std::map<retry_key, bytes> sealed_batches_;  // idempotent batches, the newest few per place
  std::vector<retry_key> sealed_order_;
  cipher_cache ciphers_;
  std::uint64_t sealed_ = 0;
};

/// The key names the sealed values of `set` name, each once.
std::vector<key_name> keys_named(const kafka::records::record_set& set);

/// What opening found, added up over calls.
struct open_counts {
  std::uint64_t opened = 0;         ///< values opened
  std::uint64_t plaintext = 0;      ///< plain values passed in a plaintext topic
  std::uint64_t undecryptable = 0;  ///< records that could not be opened (or were plain where they must not be)
  std::uint64_t skipped = 0;        ///< of those, dropped (`skip`)
  std::uint64_t tagged = 0;         ///< of those, delivered with `undecryptable_header` (`tag`)
  std::uint64_t failed = 0;         ///< partitions answered with an error (`fail`)
  std::uint64_t gaps = 0;           ///< gaps in a producer's sequence
  std::uint64_t missing = 0;        ///< sequence numbers skipped by those gaps
  std::uint64_t replays = 0;        ///< replayed or reordered records, dropped
};

/// A key by name, for opening: the key, or why there is none.
using key_lookup = std::function<result_or_failure<shared_key>(const key_name&)>;

/// What became of one partition's record set.
struct opened_records {
  bytes records;
  /// Under `fail`: the partition is to be answered with an error; `records` holds the batches
  /// before the one that could not be opened.
  bool failed = false;
  /// What went wrong with records of this set, one line each (at most a few): for the log.
  std::vector<std::string> problems;
};

/// Opens the values of a Fetch response's record set for one consumer inlet.
class record_opener {
public:
  /// `report_header`: a gap or a replay is also reported in a `report_header` header on the
  /// next record of its partition delivered on this connection.
  record_opener(std::shared_ptr<sequence_tracker> tracker, undecryptable_policy policy,
                std::vector<std::string> plaintext_topics, bool report_header = false);

  /// The record set `set` of `place` with every sealed value opened, as the policy says for
  /// those that cannot be. Replays are dropped whatever the policy. A truncated tail stays as it
  /// is; legacy messages are undecryptable (they cannot have been sealed).
  result_or_failure<opened_records> open(kafka::records::record_set& set, const record_place& place,
                                         const key_lookup& lookup, open_counts& counts);

private:
  enum class problem_kind { malformed, no_key, tag_mismatch, expired, plaintext };
  struct record_problem {
    problem_kind kind;
    std::string reason;
  };
  // Opens `r` in place, or says why it cannot be opened; `replay` is set for a replay.
  std::optional<record_problem> open_record(kafka::records::record& r, std::int64_t offset, const record_place& place,
                                            const key_lookup& lookup, open_counts& counts, bool& replay,
                                            std::vector<std::string>& problems);
  // Opens one envelope of `r` into `plain` (`field`: as for associated_data); the key it names,
  // or the problem.
  std::optional<record_problem> open_envelope(const kafka::records::record& r, byte_view sealed_value,
                                              const record_place& place, const key_lookup& lookup,
                                              std::string_view field, bytes& plain, envelope& e, shared_key& key);
  // The sequence check of an opened record: true when it is a replay (to drop).
  bool judge_sequence(const envelope& e, const data_key& k, std::int64_t offset, const record_place& place,
                      open_counts& counts, std::vector<std::string>& problems);
  // Opens the sealed fields of `r` (its header lists them in `list`).
  std::optional<record_problem> open_fields(kafka::records::record& r, std::string_view list, std::int64_t offset,
                                            const record_place& place, const key_lookup& lookup, open_counts& counts,
                                            bool& replay, std::vector<std::string>& problems);

  void add_report(const record_place& place, const std::string& line);
  void attach_report(const record_place& place, kafka::records::record& r);

  std::shared_ptr<sequence_tracker> tracker_;
  undecryptable_policy policy_;
  std::vector<std::string> plaintext_topics_;
  bool report_header_;
  std::map<std::pair<std::string, std::int32_t>, std::string> pending_reports_;
  cipher_cache ciphers_;
};

}  // namespace nodus::kafka_crypto
