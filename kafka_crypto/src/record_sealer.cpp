// The producer's side: every value of every data batch sealed into an envelope.

#include <algorithm>

#include <fmt/format.h>

#include "json_fields.hpp"
#include "nodus/core/error.hpp"
#include "nodus/kafka_crypto/record_sealing.hpp"

namespace nodus::kafka_crypto {
namespace {

namespace records = kafka::records;

// Idempotent batches remembered per connection: a producer has at most 5 in flight per
// partition, so this covers every retry of a few partitions at once.
constexpr std::size_t max_sealed_batches = 256;

}  // namespace

record_sealer::record_sealer(std::vector<std::string> encrypted_fields) : fields_(std::move(encrypted_fields)) {
  const auto random = vault::random_bytes(session_.size());
  std::copy(random.begin(), random.end(), session_.begin());
}

result_or_failure<> record_sealer::seal_batch(records::record_batch& batch, const record_place& place,
                                              const data_key& key, clock_type::time_point now) {
  const auto counter = rekey_counter(key, now);
  auto cipher = ciphers_.cipher(key, counter);
  if (!cipher) return cipher.error();
  auto& next = next_sequence_[{std::string(place.topic), place.partition}];
  for (auto& r : batch.records) {
    // A header of that name from the client is not ours: only what this portal seals carries it.
    std::erase_if(r.headers, [](const records::header& h) { return h.key == sealed_header; });
    if (!r.value) continue;  // a tombstone stays a tombstone
    if (!fields_.empty()) {
      auto by_fields = seal_fields(r, place, key, counter, next, *cipher.value());
      if (!by_fields) return by_fields.error();
      if (by_fields.value()) continue;
    }
    bytes sealed;
    sealed.reserve(r.value->size() + envelope_overhead);
    write_envelope_prefix(key.name, counter, session_, ++next, sealed);
    const auto aad = associated_data(place, r.key, r.headers, key.producer, byte_view(sealed));
    const auto nonce = vault::random_bytes(envelope_nonce_size);
    sealed.insert(sealed.end(), nonce.begin(), nonce.end());
    if (auto s = cipher.value()->seal(nonce, aad, *r.value, sealed); !s)
      return failure(s.error(), "sealing a record value");
    r.value = std::move(sealed);
    r.headers.push_back({std::string(sealed_header), bytes{'1'}});
    ++sealed_;
  }
  return outcome::success();
}

result_or_failure<bool> record_sealer::seal_fields(records::record& r, const record_place& place, const data_key& key,
                                                   std::uint32_t counter, std::uint64_t& next,
                                                   vault::aead_cipher& cipher) {
  auto doc = detail::parse_object(*r.value);
  if (!doc) return false;
  json::value list = json::array{};
  for (const auto& path : fields_)
    if (detail::find_path(*doc, path)) list.push_back(path);
  if (list.as_array()->empty()) return false;
  const auto list_text = json::dump(list);
  const auto sequence = ++next;  // one per record, whatever the number of fields
  for (const auto& path : *list.as_array()) {
    auto* field = detail::find_path(*doc, *path.as_string());
    const auto plain = json::dump(*field);
    bytes sealed;
    write_envelope_prefix(key.name, counter, session_, sequence, sealed);
    const auto aad = associated_data(place, r.key, r.headers, key.producer, byte_view(sealed),
                                     detail::field_binding(*path.as_string(), list_text));
    const auto nonce = vault::random_bytes(envelope_nonce_size);
    sealed.insert(sealed.end(), nonce.begin(), nonce.end());
    if (auto s = cipher.seal(nonce, aad, as_bytes(plain), sealed); !s) return failure(s.error(), "sealing a field");
    *field = json::value(detail::base64_encode(sealed));
  }
  const auto text = json::dump(*doc);
  r.value = bytes(text.begin(), text.end());
  r.headers.push_back({std::string(sealed_header), bytes(list_text.begin(), list_text.end())});
  ++sealed_;
  return true;
}

result_or_failure<bytes> record_sealer::seal(byte_view wire, const record_place& place, const data_key& key,
                                             clock_type::time_point now) {
  auto set = records::decode_record_set(wire);
  if (!set) return set.error();
  bytes out;
  out.reserve(wire.size() + 128);
  for (auto& entry : set.value().entries) {
    if (!std::holds_alternative<records::record_batch>(entry))
      return fail(errc::not_supported, std::holds_alternative<records::legacy_entry>(entry)
                                           ? "records in the legacy format (magic 0 or 1) cannot be sealed"
                                           : "the record set ends with a cut batch");
    auto& batch = std::get<records::record_batch>(entry);
    if (batch.is_control() || batch.records.empty()) {
      auto same = records::encode(batch);
      if (!same) return same.error();
      out.insert(out.end(), same.value().begin(), same.value().end());
      continue;
    }
    const bool idempotent = batch.producer_id >= 0 && batch.base_sequence >= 0;
    const retry_key rk{
        {std::string(place.topic), place.partition}, batch.producer_id, batch.producer_epoch, batch.base_sequence};
    if (idempotent) {
      if (auto it = sealed_batches_.find(rk); it != sealed_batches_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        continue;
      }
    }
    if (auto sealed = seal_batch(batch, place, key, now); !sealed) return sealed.error();
    auto bytes_of = records::encode(batch);
    if (!bytes_of) return bytes_of.error();
    out.insert(out.end(), bytes_of.value().begin(), bytes_of.value().end());
    if (idempotent) {
      if (sealed_order_.size() >= max_sealed_batches) {
        sealed_batches_.erase(sealed_order_.front());
        sealed_order_.erase(sealed_order_.begin());
      }
      sealed_order_.push_back(rk);
      sealed_batches_.emplace(rk, std::move(bytes_of.value()));
    }
  }
  return out;
}

}  // namespace nodus::kafka_crypto
