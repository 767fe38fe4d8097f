#include "record_protection.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "nodus/core/delivery_error.hpp"
#include "nodus/core/error.hpp"
#include "nodus/kafka/api.hpp"
#include "nodus/kafka/frame.hpp"

namespace nodus::kafka_portal::detail {
namespace {

namespace kc = kafka_crypto;

constexpr std::int16_t invalid_record = 87;    // not retried: the client's application is told
constexpr std::int16_t request_timed_out = 7;  // retried by the client until its delivery timeout
constexpr std::int16_t corrupt_message = 2;    // a Fetch partition under `fail`

// The error a Produce partition gets when its topic's key could not be had.
std::int16_t produce_error_for(const failure& f) {
  return f.code == kc::key_error::unreachable ? request_timed_out : invalid_record;
}

}  // namespace

void protection_state::add(const kc::open_counts& c) {
  std::lock_guard lock(mutex_);
  stats_.opened += c.opened;
  stats_.plaintext += c.plaintext;
  stats_.undecryptable += c.undecryptable;
  stats_.skipped += c.skipped;
  stats_.tagged += c.tagged;
  stats_.failed_partitions += c.failed;
  stats_.gaps += c.gaps;
  stats_.missing += c.missing;
  stats_.replays += c.replays;
}

void protection_state::add_sealed(std::uint64_t values, std::uint64_t refused_partitions) {
  std::lock_guard lock(mutex_);
  stats_.sealed += values;
  stats_.produce_refused += refused_partitions;
}

record_protection_stats protection_state::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

connection_protection::connection_protection(std::shared_ptr<protection_state> s)
    : state_(std::move(s)),
      sealer_(state_->options.encrypted_fields),
      opener_(std::make_shared<kafka_crypto::sequence_tracker>(), state_->options.undecryptable,
              state_->options.plaintext_topics, state_->options.report_header) {}

// Sealing adds 67 bytes and a header to every record, and ciphertext does not compress: a batch
// a client filled up to the broker's limit can pass it once sealed (librdkafka's batch.size is
// 1 000 000 bytes by default, the broker's max.message.bytes 1 048 588). Said once per
// connection, with what to do; the broker's MESSAGE_TOO_LARGE goes to the client as it is (a
// Produce request may hold one batch per partition, so the batch cannot be split here).
void connection_protection::warn_if_past_default_limit(const std::string& topic, std::size_t before,
                                                       std::size_t after) {
  constexpr std::size_t default_max_message_bytes = 1048588;
  if (warned_size_ || after <= default_max_message_bytes || before > default_max_message_bytes) return;
  warned_size_ = true;
  state_->log.warn(
      "kafka inlet '{}': a batch for '{}' of {} bytes is {} bytes once sealed, past Kafka's default "
      "max.message.bytes ({}): if the broker refuses it (MESSAGE_TOO_LARGE), lower the producer's batch.size",
      state_->at, printable_cut(topic, 120), before, after, default_max_message_bytes);
}

task<result_or_failure<bytes>> connection_protection::seal_produce(byte_view wire, std::size_t max_frame) {
  auto frame = kafka::decode_request(wire, {.max_frame_size = max_frame});
  if (!frame) co_return frame.error();
  auto* produce = std::get_if<kafka::produce_request>(&frame.value().body);
  if (!produce) co_return fail(errc::unsupported_version, "a Produce request of a version this portal cannot seal");
  const auto before = sealer_.sealed();
  std::vector<refusal> refused;
  std::uint64_t refused_partitions = 0;
  for (auto& topic : produce->topic_data) {
    auto key = co_await state_->options.keys->key_for_producing(topic.name);
    const auto now = kc::clock_type::now();
    if (!key) {
      const auto reason =
          fmt::format("nodus: no key to seal topic '{}': {}", printable_cut(topic.name, 120), key.error().message());
      state_->log.warn("kafka inlet '{}': {}", state_->at, printable(as_bytes(reason)));
      refusal r{topic.name, {}, produce_error_for(key.error()), reason};
      for (const auto& p : topic.partition_data) r.partitions.push_back(p.index);
      refused_partitions += r.partitions.size();
      refused.push_back(std::move(r));
      continue;
    }
    for (auto& p : topic.partition_data) {
      if (!p.records || p.records->empty()) continue;
      auto sealed = sealer_.seal(*p.records, {topic.name, p.index}, *key.value(), now);
      if (!sealed)
        co_return fail(sealed.error().code, fmt::format("sealing {}-{}: {}", printable_cut(topic.name, 120), p.index,
                                                        sealed.error().message()));
      warn_if_past_default_limit(topic.name, p.records->size(), sealed.value().size());
      p.records = std::move(sealed.value());
    }
  }
  // The refused topics do not go to the broker; their answers are added to the broker's.
  std::erase_if(produce->topic_data, [&](const auto& t) {
    return std::any_of(refused.begin(), refused.end(), [&](const refusal& r) { return r.topic == t.name; });
  });
  state_->add_sealed(sealer_.sealed() - before, refused_partitions);
  if (!refused.empty() && produce->acks != 0) refusals_[frame.value().header.correlation_id] = std::move(refused);
  co_return kafka::encode_request(frame.value());
}

result_or_failure<bytes> connection_protection::patch_produce_answer(byte_view wire, const tracked_request& r,
                                                                     std::size_t max_frame) {
  auto node = refusals_.extract(r.correlation_id);
  auto frame = kafka::decode_response(wire, r.api_key, r.api_version, {.max_frame_size = max_frame});
  if (!frame) return frame.error();
  auto* answer = std::get_if<kafka::produce_response>(&frame.value().body);
  if (!answer) return fail(errc::unsupported_version, "a Produce answer this portal cannot read");
  for (const auto& refused : node.mapped()) {
    kafka::produce_response::topic_produce_response topic;
    topic.name = refused.topic;
    for (const auto index : refused.partitions) {
      kafka::produce_response::partition_produce_response p;
      p.index = index;
      p.error_code = refused.error_code;
      p.base_offset = -1;
      p.error_message = refused.message;
      topic.partition_responses.push_back(std::move(p));
    }
    answer->responses.push_back(std::move(topic));
  }
  return kafka::encode_response(frame.value());
}

task<result_or_failure<bytes>> connection_protection::open_fetch(byte_view wire, const tracked_request& r,
                                                                 std::size_t max_frame) {
  auto frame = kafka::decode_response(wire, r.api_key, r.api_version, {.max_frame_size = max_frame});
  if (!frame) co_return frame.error();
  auto* answer = std::get_if<kafka::fetch_response>(&frame.value().body);
  if (!answer) co_return fail(errc::unsupported_version, "a Fetch answer this portal cannot read");
  kc::open_counts counts;
  for (auto& topic : answer->responses) {
    for (auto& p : topic.partitions) {
      if (!p.records || p.records->empty()) continue;
      const kc::record_place place{topic.topic, p.partition_index};
      auto set = kafka::records::decode_record_set(*p.records);
      if (!set) {
        // Not readable by this portal, nor by the client: passed on as it is, unless `fail`.
        ++counts.undecryptable;
        state_->log.warn("kafka inlet '{}': {}-{}: the records do not decode: {}", state_->at,
                         printable_cut(topic.topic, 120), p.partition_index,
                         printable(as_bytes(set.error().message())));
        if (state_->options.undecryptable == kc::undecryptable_policy::fail) {
          ++counts.failed;
          p.error_code = corrupt_message;
          p.records = bytes{};
        }
        continue;
      }
      std::map<kc::key_name, result_or_failure<kc::shared_key>> keys;
      for (const auto& name : kc::keys_named(set.value())) {
        auto key = co_await state_->options.keys->key_by_name(name);
        keys.emplace(name, std::move(key));
      }
      const kc::key_lookup lookup = [&keys](const kc::key_name& name) -> result_or_failure<kc::shared_key> {
        auto it = keys.find(name);
        if (it == keys.end()) return fail(errc::malformed, "no key was asked for");
        return it->second;
      };
      auto opened = opener_.open(set.value(), place, lookup, counts);
      if (!opened) co_return opened.error();
      for (const auto& line : opened.value().problems)
        state_->log.warn("kafka inlet '{}': {}", state_->at, printable(as_bytes(line)));
      if (opened.value().failed) p.error_code = corrupt_message;
      p.records = std::move(opened.value().records);
    }
  }
  state_->add(counts);
  co_return kafka::encode_response(frame.value());
}

}  // namespace nodus::kafka_portal::detail
