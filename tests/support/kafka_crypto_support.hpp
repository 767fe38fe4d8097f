#pragma once
// Data keys and record batches for the record sealing tests, without a custodian.

#include <map>
#include <string>
#include <vector>

#include "nodus/kafka/records/record_set.hpp"
#include "nodus/kafka_crypto/record_sealing.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::test {

namespace records = kafka::records;

/// A fresh data key for `topic` issued to `producer`, made `age` ago.
inline kafka_crypto::shared_key make_key(std::string topic, std::string producer = "I0123abcd",
                                         std::chrono::seconds age = std::chrono::seconds(1)) {
  auto k = std::make_shared<kafka_crypto::data_key>();
  const auto name = vault::random_bytes(k->name.size());
  std::copy(name.begin(), name.end(), k->name.begin());
  k->topic = std::move(topic);
  k->producer = std::move(producer);
  k->created = kafka_crypto::clock_type::now() - age;
  k->material = vault::secret(vault::random_bytes(32));
  return k;
}

inline bytes text(std::string_view s) { return bytes(s.begin(), s.end()); }

/// A batch of `values` (keys "k0", "k1", ...; a header on each; nullopt: a tombstone).
inline records::record_batch make_batch(const std::vector<std::optional<std::string>>& values,
                                        records::codec c = records::codec::none, std::int64_t producer_id = -1,
                                        std::int32_t base_sequence = -1) {
  records::record_batch b;
  b.base_timestamp = 1700000000000;
  b.max_timestamp = b.base_timestamp + static_cast<std::int64_t>(values.size());
  b.producer_id = producer_id;
  b.producer_epoch = producer_id >= 0 ? 3 : -1;
  b.base_sequence = base_sequence;
  b.set_compression(c);
  for (std::size_t i = 0; i < values.size(); ++i) {
    records::record r;
    r.timestamp_delta = static_cast<std::int64_t>(i);
    r.offset_delta = static_cast<std::int32_t>(i);
    r.key = text("k" + std::to_string(i));
    if (values[i]) r.value = text(*values[i]);
    r.headers.push_back({"trace", text("t" + std::to_string(i))});
    b.records.push_back(std::move(r));
  }
  b.last_offset_delta = static_cast<std::int32_t>(values.size()) - 1;
  return b;
}

inline bytes encoded(const records::record_batch& b) { return records::encode(b).value(); }

/// Keys by name, for `record_opener::open`.
struct key_ring {
  std::map<kafka_crypto::key_name, kafka_crypto::shared_key> keys;
  void add(const kafka_crypto::shared_key& k) { keys[k->name] = k; }
  kafka_crypto::key_lookup lookup() const {
    return [this](const kafka_crypto::key_name& n) -> result_or_failure<kafka_crypto::shared_key> {
      auto it = keys.find(n);
      if (it == keys.end()) return fail(make_error_code(kafka_crypto::key_error::deleted), "the key was deleted");
      return it->second;
    };
  }
};

/// Whether `needle` occurs in `hay`.
inline bool contains(const bytes& hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

}  // namespace nodus::test
