// The consumer's side: every sealed value of every data batch opened, the producers' sequences
// checked, and what cannot be opened handled as the policy says.

#include <algorithm>

#include <fmt/format.h>

#include "nodus/core/delivery_error.hpp"
#include "nodus/core/error.hpp"
#include "nodus/kafka_crypto/record_sealing.hpp"

namespace nodus::kafka_crypto {
namespace {

namespace records = kafka::records;

constexpr std::size_t max_problems_per_set = 4;

void note(std::vector<std::string>& problems, std::string line) {
  if (problems.size() < max_problems_per_set) problems.push_back(std::move(line));
}

std::string short_hex(const session_id& s) {
  std::string out;
  for (auto b : s) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

std::vector<key_name> keys_named(const records::record_set& set) {
  std::vector<key_name> out;
  for (const auto& entry : set.entries) {
    const auto* batch = std::get_if<records::record_batch>(&entry);
    if (!batch || batch->is_control()) continue;
    for (const auto& r : batch->records) {
      if (!r.value || !has_sealed_header(r.headers)) continue;
      auto e = read_envelope(*r.value);
      if (e && std::find(out.begin(), out.end(), e.value().key) == out.end()) out.push_back(e.value().key);
    }
  }
  return out;
}

record_opener::record_opener(std::shared_ptr<sequence_tracker> tracker, undecryptable_policy policy,
                             std::vector<std::string> plaintext_topics)
    : tracker_(std::move(tracker)), policy_(policy), plaintext_topics_(std::move(plaintext_topics)) {}

std::optional<record_opener::record_problem> record_opener::open_record(records::record& r, std::int64_t offset,
                                                                        const record_place& place,
                                                                        const key_lookup& lookup, open_counts& counts,
                                                                        bool& replay,
                                                                        std::vector<std::string>& problems) {
  replay = false;
  if (!has_sealed_header(r.headers)) {
    if (!r.value) return std::nullopt;  // a tombstone: never sealed
    if (std::find(plaintext_topics_.begin(), plaintext_topics_.end(), place.topic) != plaintext_topics_.end()) {
      ++counts.plaintext;
      return std::nullopt;
    }
    return record_problem{problem_kind::plaintext, "a plaintext record in a topic whose records must be sealed"};
  }
  if (!r.value) return record_problem{problem_kind::malformed, "a record marked sealed has a null value"};
  auto e = read_envelope(*r.value);
  if (!e) return record_problem{problem_kind::malformed, e.error().message()};
  auto key = lookup(e.value().key);
  if (!key)
    return record_problem{problem_kind::no_key,
                          fmt::format("key {}: {}", to_hex(e.value().key), key.error().message())};
  const auto& k = *key.value();
  if (static_cast<std::int64_t>(e.value().rekey_counter) * k.timing.rekey.count() > k.timing.validity.count())
    return record_problem{problem_kind::expired,
                          fmt::format("sealed with key {} at rekey counter {}, past the key's validity", to_hex(k.name),
                                      e.value().rekey_counter)};
  auto cipher = ciphers_.cipher(k, e.value().rekey_counter);
  if (!cipher) return record_problem{problem_kind::no_key, cipher.error().message()};
  const auto aad = associated_data(place, r.key, r.headers, k.producer, e.value().prefix);
  bytes plain;
  plain.reserve(e.value().sealed.size());
  if (!cipher.value()->open(e.value().nonce, aad, e.value().sealed, plain))
    return record_problem{problem_kind::tag_mismatch,
                          "the value does not open: changed, or moved from another topic, partition, key or "
                          "producer"};
  const auto seen = tracker_->observe(place, k.producer, e.value().session, e.value().sequence, offset);
  if (seen.verdict == sequence_verdict::replay) {
    replay = true;
    ++counts.replays;
    note(problems, fmt::format("offset {}: a replay of sequence {} of producer {} session {} (last seen {}): dropped",
                               offset, e.value().sequence, k.producer, short_hex(e.value().session), seen.last));
    return std::nullopt;
  }
  if (seen.verdict == sequence_verdict::gap) {
    ++counts.gaps;
    counts.missing += seen.missing;
    note(problems, fmt::format("offset {}: {} record(s) of producer {} session {} missing before sequence {}", offset,
                               seen.missing, k.producer, short_hex(e.value().session), e.value().sequence));
  }
  r.value = std::move(plain);
  std::erase_if(r.headers, [](const records::header& h) { return h.key == sealed_header; });
  ++counts.opened;
  return std::nullopt;
}

result_or_failure<opened_records> record_opener::open(records::record_set& set, const record_place& place,
                                                      const key_lookup& lookup, open_counts& counts) {
  opened_records out;
  bytes& wire = out.records;
  const auto topic = printable_cut(place.topic, 120);
  for (auto& entry : set.entries) {
    if (auto* tail = std::get_if<records::truncated_tail>(&entry)) {
      wire.insert(wire.end(), tail->raw.begin(), tail->raw.end());
      continue;
    }
    if (auto* legacy = std::get_if<records::legacy_entry>(&entry)) {
      ++counts.undecryptable;
      note(out.problems,
           fmt::format("{}-{}: a legacy-format message set, which cannot have been sealed", topic, place.partition));
      if (policy_ == undecryptable_policy::fail) {
        out.failed = true;
        ++counts.failed;
        return out;
      }
      if (policy_ == undecryptable_policy::skip) {
        ++counts.skipped;
        continue;
      }
      ++counts.tagged;  // as it is: a legacy message has no headers to say why
      wire.insert(wire.end(), legacy->raw.begin(), legacy->raw.end());
      continue;
    }
    auto& batch = std::get<records::record_batch>(entry);
    if (batch.is_control() || batch.records.empty()) {
      auto same = records::encode(batch);
      if (!same) return same.error();
      wire.insert(wire.end(), same.value().begin(), same.value().end());
      continue;
    }
    std::vector<records::record> kept;
    kept.reserve(batch.records.size());
    for (auto& r : batch.records) {
      const auto offset = batch.base_offset + r.offset_delta;
      bool replay = false;
      auto problem = open_record(r, offset, place, lookup, counts, replay, out.problems);
      if (replay) continue;
      if (!problem) {
        kept.push_back(std::move(r));
        continue;
      }
      ++counts.undecryptable;
      note(out.problems,
           fmt::format("{}-{} offset {}: {} ({})", topic, place.partition, offset, problem->reason, name(policy_)));
      if (policy_ == undecryptable_policy::fail) {
        out.failed = true;
        ++counts.failed;
        return out;  // the batches before this one, and an error for the partition
      }
      if (policy_ == undecryptable_policy::skip) {
        ++counts.skipped;
        continue;
      }
      ++counts.tagged;
      r.headers.push_back({std::string(undecryptable_header), bytes(problem->reason.begin(), problem->reason.end())});
      kept.push_back(std::move(r));
    }
    // Records dropped leave holes in the offsets, as compaction does: the batch keeps its last
    // offset delta, so the consumer moves past them.
    batch.records = std::move(kept);  // encoded again with the batch's codec (and snappy framing)
    auto bytes_of = records::encode(batch);
    if (!bytes_of) return bytes_of.error();
    wire.insert(wire.end(), bytes_of.value().begin(), bytes_of.value().end());
  }
  return out;
}

}  // namespace nodus::kafka_crypto
