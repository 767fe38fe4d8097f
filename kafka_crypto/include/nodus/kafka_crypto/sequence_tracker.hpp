#pragma once
/// What a consumer's inlet knows of each producer session's sequence in each partition, to
/// catch records deleted, replayed or reordered by whoever holds the topic.
///
/// Records are judged in offset order. A record at an offset past the last one seen of its
/// session is in order when its sequence is the next, a gap when it is further on (the records
/// between are missing: deleted, or never written), and a replay when its sequence was seen
/// already (a copy, or reordered); a record at an offset not past the last one seen is a
/// re-read (the consumer fetched those offsets again: after a rebalance, a restart, a seek) and
/// passes. The first record seen of a session sets where it starts.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "nodus/kafka_crypto/envelope.hpp"

namespace nodus::kafka_crypto {

enum class sequence_verdict { first, in_order, gap, replay, reread };

struct sequence_outcome {
  sequence_verdict verdict = sequence_verdict::first;
  std::uint64_t missing = 0;  ///< for a gap: how many sequence numbers were skipped
  std::uint64_t last = 0;     ///< the last sequence seen before this record
};

/// Thread-safe; one per consumer inlet. At most `max_sessions` sessions are remembered (the
/// oldest seen is forgotten first), so memory stays bounded whatever the topic holds.
class sequence_tracker {
public:
  explicit sequence_tracker(std::size_t max_sessions = 65536) : max_sessions_(max_sessions) {}

  /// Judges the record at `offset` with `sequence` of `session` by `producer` in `place`, and
  /// remembers it unless it is a replay or a re-read.
  sequence_outcome observe(const record_place& place, const std::string& producer, const session_id& session,
                           std::uint64_t sequence, std::int64_t offset);

  std::size_t sessions() const;

private:
  using session_key = std::tuple<std::string, std::int32_t, std::string, session_id>;
  struct last_seen {
    std::uint64_t sequence = 0;
    std::int64_t offset = -1;
    std::uint64_t touched = 0;  // the observation count when last updated, for eviction
  };
  void evict_oldest();

  mutable std::mutex mutex_;
  std::map<session_key, last_seen> sessions_;
  std::uint64_t observations_ = 0;
  std::size_t max_sessions_;
};

}  // namespace nodus::kafka_crypto
