#include "nodus/kafka_crypto/sequence_tracker.hpp"

#include <algorithm>

namespace nodus::kafka_crypto {

sequence_outcome sequence_tracker::observe(const record_place& place, const std::string& producer,
                                           const session_id& session, std::uint64_t sequence, std::int64_t offset) {
  std::lock_guard lock(mutex_);
  ++observations_;
  session_key k{std::string(place.topic), place.partition, producer, session};
  auto it = sessions_.find(k);
  if (it == sessions_.end()) {
    if (sessions_.size() >= max_sessions_) evict_oldest();
    sessions_.emplace(std::move(k), last_seen{sequence, offset, observations_});
    return {sequence_verdict::first, 0, 0};
  }
  auto& last = it->second;
  sequence_outcome out{sequence_verdict::in_order, 0, last.sequence};
  if (offset <= last.offset) {
    out.verdict = sequence_verdict::reread;
    return out;
  }
  if (sequence <= last.sequence) {
    out.verdict = sequence_verdict::replay;
    return out;
  }
  if (sequence > last.sequence + 1) {
    out.verdict = sequence_verdict::gap;
    out.missing = sequence - last.sequence - 1;
  }
  last = {sequence, offset, observations_};
  return out;
}

std::size_t sequence_tracker::sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void sequence_tracker::evict_oldest() {
  auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                 [](const auto& a, const auto& b) { return a.second.touched < b.second.touched; });
  if (oldest != sessions_.end()) sessions_.erase(oldest);
}

}  // namespace nodus::kafka_crypto
