#include "request_tracker.hpp"

#include <fmt/format.h>

#include "nodus/core/error.hpp"
#include "nodus/kafka/api.hpp"
#include "nodus/kafka/frame.hpp"

namespace nodus::kafka_portal::detail {
namespace {

constexpr std::int16_t produce_key = 0;

// A Produce body's acks: after the transactional id in v3+ (a compact nullable string from v9).
result_or_failure<std::int16_t> produce_acks(byte_view body, std::int16_t version) {
  std::size_t at = 0;
  if (version >= 3) {
    if (version >= 9) {  // unsigned varint: length + 1, 0 for null
      std::uint64_t length = 0;
      int shift = 0;
      for (;;) {
        if (at >= body.size() || shift > 28) return fail(errc::malformed, "Produce: TransactionalId: truncated");
        const auto b = body[at++];
        length |= std::uint64_t{b & 0x7fU} << shift;
        shift += 7;
        if ((b & 0x80U) == 0) break;
      }
      if (length > 0) at += length - 1;
    } else {
      if (body.size() < 2) return fail(errc::malformed, "Produce: TransactionalId: truncated");
      const auto length = static_cast<std::int16_t>((body[0] << 8) | body[1]);
      at = 2 + (length > 0 ? static_cast<std::size_t>(length) : 0);
    }
  }
  if (at + 2 > body.size()) return fail(errc::malformed, "Produce: Acks: truncated");
  return static_cast<std::int16_t>((body[at] << 8) | body[at + 1]);
}

}  // namespace

result_or_failure<std::optional<request_head>> read_request_head(byte_view head, bool complete) {
  auto header = kafka::decode_request_header(head);
  if (!header) {
    if (!complete) return std::nullopt;  // a client id longer than the head: read the frame whole
    return header.error();
  }
  request_head out;
  const auto& h = header.value().first;
  out.request = {h.correlation_id, h.api_key, h.api_version};
  if (h.api_key == produce_key) {
    auto acks = produce_acks(head.subspan(header.value().second), h.api_version);
    if (!acks) {
      if (complete) return acks.error();
      return std::nullopt;
    }
    out.answered = acks.value() != 0;
  }
  return out;
}

result_or_failure<> request_tracker::sent(const request_head& head) {
  if (!head.answered) return outcome::success();
  if (waiting_.size() >= max_waiting)
    return fail(errc::too_large, fmt::format("over {} requests waiting for an answer", max_waiting));
  waiting_.push_back(head.request);
  return outcome::success();
}

result_or_failure<tracked_request> request_tracker::answered(std::int32_t correlation_id) {
  if (waiting_.empty())
    return fail(errc::malformed, fmt::format("an answer (correlation id {}) to no request", correlation_id));
  const auto front = waiting_.front();
  if (front.correlation_id != correlation_id)
    return fail(errc::malformed,
                fmt::format("an answer with correlation id {} where {} ({} v{}) was next", correlation_id,
                            front.correlation_id, kafka::api_name(front.api_key), front.api_version));
  waiting_.pop_front();
  return front;
}

result_or_failure<std::int32_t> response_correlation_id(byte_view head) {
  if (head.size() < 4) return fail(errc::malformed, "a response shorter than its correlation id");
  return static_cast<std::int32_t>((std::uint32_t{head[0]} << 24) | (std::uint32_t{head[1]} << 16) |
                                   (std::uint32_t{head[2]} << 8) | std::uint32_t{head[3]});
}

}  // namespace nodus::kafka_portal::detail
