#pragma once
// The requests of one Kafka connection that await an answer, in order: Kafka answers each
// connection's requests in the order they were sent, and an answer names only its correlation
// id, so the API and version it answers (needed to read it) come from here.

#include <cstdint>
#include <deque>
#include <optional>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::kafka_portal::detail {

struct tracked_request {
  std::int32_t correlation_id = 0;
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
};

/// What a request's first bytes say.
struct request_head {
  tracked_request request;
  bool answered = true;  ///< false for a Produce with acks=0: the broker sends no answer
};

/// Reads the header (and a Produce's acks) from a request's first bytes; `complete` says
/// whether `head` is the whole frame. Nothing when an incomplete head is too short: the caller
/// holds the frame whole and asks again.
result_or_failure<std::optional<request_head>> read_request_head(byte_view head, bool complete);

class request_tracker {
public:
  /// Most requests a connection may have waiting; one more closes it (a client pipelines a few;
  /// librdkafka's default is 1 000 000 in flight in theory, 5 per broker in practice for Produce).
  static constexpr std::size_t max_waiting = 4096;

  result_or_failure<> sent(const request_head& head);
  /// The request a response with this correlation id answers (the oldest waiting).
  result_or_failure<tracked_request> answered(std::int32_t correlation_id);
  bool empty() const noexcept { return waiting_.empty(); }

private:
  std::deque<tracked_request> waiting_;
};

/// The correlation id a response starts with.
result_or_failure<std::int32_t> response_correlation_id(byte_view head);

}  // namespace nodus::kafka_portal::detail
