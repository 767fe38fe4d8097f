// The consumer's side: every sealed value of every data batch opened, the producers' sequences
// checked, and what cannot be opened handled as the policy says.

#include <algorithm>

#include <fmt/format.h>

#include "json_fields.hpp"
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

void record_opener::add_report(const record_place& place, const std::string& line) {
  auto& pending = pending_reports_[{std::string(place.topic), place.partition}];
  if (pending.size() < 1024) pending += pending.empty() ? line : "; " + line;  // bounded, whatever happens
}

void record_opener::attach_report(const record_place& place, records::record& r) {
  auto it = pending_reports_.find({std::string(place.topic), place.partition});
  if (it == pending_reports_.end()) return;
  r.headers.push_back({std::string(report_header), bytes(it->second.begin(), it->second.end())});
  pending_reports_.erase(it);
}

std::vector<key_name> keys_named(const records::record_set& set) {
  std::vector<key_name> out;
  for (const auto& entry : set.entries) {
    const auto* batch = std::get_if<records::record_batch>(&entry);
    if (!batch || batch->is_control()) continue;
    for (const auto& r : batch->records) {
      if (!r.value || !has_sealed_header(r.headers)) continue;
      auto add = [&out](byte_view sealed) {
        auto e = read_envelope(sealed);
        if (e && std::find(out.begin(), out.end(), e.value().key) == out.end()) out.push_back(e.value().key);
      };
      if (read_envelope(*r.value)) {
        add(*r.value);
        continue;
      }
      // Sealed fields: every field names the record's key; the first one found says which.
      const auto marker = std::find_if(r.headers.begin(), r.headers.end(),
                                       [](const records::header& h) { return h.key == sealed_header; });
      const auto paths = marker->value ? detail::parse_field_list(*marker->value) : std::nullopt;
      auto doc = paths ? detail::parse_object(*r.value) : std::nullopt;
      if (!doc) continue;
      auto* field = detail::find_path(*doc, paths->front());
      if (field && field->as_string())
        if (auto sealed = detail::base64_decode(*field->as_string())) add(*sealed);
    }
  }
  return out;
}

record_opener::record_opener(std::shared_ptr<sequence_tracker> tracker, undecryptable_policy policy,
                             std::vector<std::string> plaintext_topics, bool report_header)
    : tracker_(std::move(tracker)),
      policy_(policy),
      plaintext_topics_(std::move(plaintext_topics)),
      report_header_(report_header) {}

std::optional<record_opener::record_problem> record_opener::open_envelope(
    const records::record& r, byte_view sealed_value, const record_place& place, const key_lookup& lookup,
    std::string_view field, bytes& plain, envelope& e, shared_key& key) {
  auto read = read_envelope(sealed_value);
  if (!read) return record_problem{problem_kind::malformed, read.error().message()};
  e = read.value();
  auto found = lookup(e.key);
  if (!found)
    return record_problem{problem_kind::no_key, fmt::format("key {}: {}", to_hex(e.key), found.error().message())};
  key = found.value();
  const auto& k = *key;
  if (static_cast<std::int64_t>(e.rekey_counter) * k.timing.rekey.count() > k.timing.validity.count())
    return record_problem{problem_kind::expired, fmt::format("sealed with key {} at rekey counter {}, past the key's "
                                                             "validity",
                                                             to_hex(k.name), e.rekey_counter)};
  auto cipher = ciphers_.cipher(k, e.rekey_counter);
  if (!cipher) return record_problem{problem_kind::no_key, cipher.error().message()};
  const auto aad = associated_data(place, r.key, r.headers, k.producer, e.prefix, field);
  plain.clear();
  plain.reserve(e.sealed.size());
  if (!cipher.value()->open(e.nonce, aad, e.sealed, plain))
    return record_problem{problem_kind::tag_mismatch,
                          "the value does not open: changed, or moved from another topic, partition, key or "
                          "producer"};
  return std::nullopt;
}

bool record_opener::judge_sequence(const envelope& e, const data_key& k, std::int64_t offset, const record_place& place,
                                   open_counts& counts, std::vector<std::string>& problems) {
  const auto seen = tracker_->observe(place, k.producer, e.session, e.sequence, offset);
  if (seen.verdict == sequence_verdict::replay) {
    ++counts.replays;
    auto line = fmt::format("offset {}: a replay of sequence {} of producer {} session {} (last seen {}): dropped",
                            offset, e.sequence, k.producer, short_hex(e.session), seen.last);
    if (report_header_) add_report(place, line);
    note(problems, std::move(line));
    return true;
  }
  if (seen.verdict == sequence_verdict::gap) {
    ++counts.gaps;
    counts.missing += seen.missing;
    auto line = fmt::format("offset {}: {} record(s) of producer {} session {} missing before sequence {}", offset,
                            seen.missing, k.producer, short_hex(e.session), e.sequence);
    if (report_header_) add_report(place, line);
    note(problems, std::move(line));
  }
  return false;
}

std::optional<record_opener::record_problem> record_opener::open_fields(records::record& r, std::string_view list,
                                                                        std::int64_t offset, const record_place& place,
                                                                        const key_lookup& lookup, open_counts& counts,
                                                                        bool& replay,
                                                                        std::vector<std::string>& problems) {
  const auto paths = detail::parse_field_list(as_bytes(list));
  if (!paths) return record_problem{problem_kind::malformed, "the list of sealed fields does not read"};
  auto doc = detail::parse_object(*r.value);
  if (!doc) return record_problem{problem_kind::malformed, "a value with sealed fields is not a JSON object"};
  bool judged = false;
  for (const auto& path : *paths) {
    auto* field = detail::find_path(*doc, path);
    const auto* text = field ? field->as_string() : nullptr;
    if (!text)
      return record_problem{problem_kind::malformed, "sealed field '" + printable_cut(path, 80) + "' is missing"};
    auto sealed = detail::base64_decode(*text);
    if (!sealed)
      return record_problem{problem_kind::malformed, "sealed field '" + printable_cut(path, 80) + "' is not base64"};
    bytes plain;
    envelope e;
    shared_key key;
    if (auto problem = open_envelope(r, *sealed, place, lookup, detail::field_binding(path, list), plain, e, key))
      return problem;
    auto restored = json::parse(std::string_view(reinterpret_cast<const char*>(plain.data()), plain.size()));
    if (!restored) return record_problem{problem_kind::malformed, "a sealed field's text does not read as JSON"};
    if (!judged) {  // every field of a record has the record's sequence number
      judged = true;
      if (judge_sequence(e, *key, offset, place, counts, problems)) {
        replay = true;
        return std::nullopt;
      }
    }
    *field = std::move(restored).value();
  }
  const auto text = json::dump(*doc);
  r.value = bytes(text.begin(), text.end());
  return std::nullopt;
}

std::optional<record_opener::record_problem> record_opener::open_record(records::record& r, std::int64_t offset,
                                                                        const record_place& place,
                                                                        const key_lookup& lookup, open_counts& counts,
                                                                        bool& replay,
                                                                        std::vector<std::string>& problems) {
  replay = false;
  const auto marker =
      std::find_if(r.headers.begin(), r.headers.end(), [](const records::header& h) { return h.key == sealed_header; });
  if (marker == r.headers.end()) {
    if (!r.value) return std::nullopt;  // a tombstone: never sealed
    if (std::find(plaintext_topics_.begin(), plaintext_topics_.end(), place.topic) != plaintext_topics_.end()) {
      ++counts.plaintext;
      return std::nullopt;
    }
    return record_problem{problem_kind::plaintext, "a plaintext record in a topic whose records must be sealed"};
  }
  if (!r.value) return record_problem{problem_kind::malformed, "a record marked sealed has a null value"};
  const std::string list = marker->value ? std::string(marker->value->begin(), marker->value->end()) : "";
  if (list != "1") {
    if (auto problem = open_fields(r, list, offset, place, lookup, counts, replay, problems)) return problem;
  } else {
    bytes plain;
    envelope e;
    shared_key key;
    if (auto problem = open_envelope(r, *r.value, place, lookup, {}, plain, e, key)) return problem;
    replay = judge_sequence(e, *key, offset, place, counts, problems);
    if (!replay) r.value = std::move(plain);
  }
  if (replay) return std::nullopt;
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
        if (report_header_) attach_report(place, r);
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
