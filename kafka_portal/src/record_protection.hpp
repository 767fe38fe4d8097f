#pragma once
// End-to-end protection of record values at a Kafka inlet (nodus/kafka_crypto): a producer's
// inlet seals the values of each Produce request before it leaves the node; a consumer's inlet
// opens those of each Fetch answer before the client sees them.
//
// A Produce request for a topic whose key cannot be had still goes to the broker, in its place in
// the connection's order, but without that topic (with no topic at all, if need be); the
// broker's answer is then given this portal's error and reason for that topic's partitions, so
// the client learns why, in order, and nothing is written with an expired key or in the clear.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)
#include <vector>

#include <spdlog/logger.h>

#include "nodus/core/address.hpp"
#include "nodus/kafka_crypto/protection.hpp"
#include "nodus/kafka_crypto/record_sealing.hpp"
#include "nodus/kafka_portal/kafka_portal.hpp"
#include "request_tracker.hpp"

namespace nodus::kafka_portal::detail {

/// The newest Fetch version a consumer's inlet offers: v13+ names topics by id only, and a
/// record's topic name is bound into its associated data.
inline constexpr std::int16_t max_fetch_version_opened = 12;

/// What an inlet's connections share: the options and the counts. (The producers' sequences are
/// tracked per connection: each consumer reads from where it chooses, and one consumer's position
/// says nothing about another's.)
class protection_state {
public:
  protection_state(kafka_crypto::protection_options o, nodus::address at, spdlog::logger& log)
      : options(std::move(o)), at(std::move(at)), log(log) {}

  bool seals() const noexcept { return options.keys && options.seal; }
  bool opens() const noexcept { return options.keys && options.open; }

  const kafka_crypto::protection_options options;
  const nodus::address at;
  spdlog::logger& log;

  void add(const kafka_crypto::open_counts& c);
  void add_sealed(std::uint64_t values, std::uint64_t refused_partitions);
  record_protection_stats stats() const;

private:
  mutable std::mutex mutex_;
  record_protection_stats stats_;
};

/// One inlet connection's sealing and opening (its session, its ciphers, the sequences it saw).
class connection_protection {
public:
  explicit connection_protection(std::shared_ptr<protection_state> s);

  bool seals() const noexcept { return state_->seals(); }
  bool opens() const noexcept { return state_->opens(); }

  /// A Produce request's frame (without its size) with every value sealed.
  task<result_or_failure<bytes>> seal_produce(byte_view frame, std::size_t max_frame);
  /// Whether the answer to this request is to carry errors of partitions `seal_produce` emptied.
  bool patches_answer(std::int32_t correlation_id) const noexcept { return refusals_.contains(correlation_id); }
  /// That answer, with those errors.
  result_or_failure<bytes> patch_produce_answer(byte_view frame, const tracked_request& r, std::size_t max_frame);
  /// A Fetch answer's frame with every sealed value opened.
  task<result_or_failure<bytes>> open_fetch(byte_view frame, const tracked_request& r, std::size_t max_frame);

private:
  struct refusal {
    std::string topic;
    std::vector<std::int32_t> partitions;
    std::int16_t error_code;
    std::string message;
  };
  std::shared_ptr<protection_state> state_;
  kafka_crypto::record_sealer sealer_;
  kafka_crypto::record_opener opener_;
  void warn_if_past_default_limit(const std::string& topic, std::size_t before, std::size_t after);

  std::map<std::int32_t, std::vector<refusal>> refusals_;  // by correlation id
  bool warned_size_ = false;
};

}  // namespace nodus::kafka_portal::detail
