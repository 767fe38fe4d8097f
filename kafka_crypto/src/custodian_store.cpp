// The custodian's state file: JSON, one object per key (never its bytes: those are in the vault,
// or, under a KEK, here wrapped by it),
// and the names of the deleted keys. Written to a temporary file, synced, then renamed over the
// old one, so a crash leaves the old state or the new one.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "custodian_state.hpp"
#include "nodus/core/error.hpp"
#include "nodus/core/json.hpp"
#include "nodus/vault/atomic_file.hpp"

namespace nodus::kafka_crypto {
namespace {

constexpr std::int64_t record_version = 1;

std::int64_t millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

json::value key_json(const kept_key& k) {
  json::value v;
  v["name"] = to_hex(k.info.name);
  v["topic"] = k.info.topic;
  v["producer"] = k.info.producer;
  v["created_ms"] = millis(k.info.created);
  v["rotation_s"] = static_cast<std::int64_t>(k.info.timing.rotation.count());
  v["rekey_s"] = static_cast<std::int64_t>(k.info.timing.rekey.count());
  v["validity_s"] = static_cast<std::int64_t>(k.info.timing.validity.count());
  if (k.wrapped.empty())
    v["vault_key"] = k.vault_key.value;
  else
    v["wrapped_key"] = k.wrapped;
  return v;
}

std::optional<std::string> text(const json::value& v, std::string_view key) {
  const auto* f = v.find(key);
  if (!f || !f->as_string()) return std::nullopt;
  return *f->as_string();
}

std::optional<std::int64_t> number(const json::value& v, std::string_view key) {
  const auto* f = v.find(key);
  return f ? f->as_int() : std::nullopt;
}

result_or_failure<kept_key> key_from(const json::value& v) {
  auto bad = [](std::string what) { return fail(make_error_code(errc::malformed), std::move(what)); };
  auto name_text = text(v, "name");
  if (!name_text) return bad("a key without a name");
  auto name = key_name_from_hex(*name_text);
  if (!name) return bad("key '" + *name_text + "': " + name.error().message());
  kept_key k;
  k.info.name = name.value();
  auto topic = text(v, "topic"), producer = text(v, "producer"), vault_key = text(v, "vault_key"),
       wrapped = text(v, "wrapped_key");
  auto created = number(v, "created_ms"), rotation = number(v, "rotation_s"), rekey = number(v, "rekey_s"),
       validity = number(v, "validity_s");
  if (!topic || !valid_topic(*topic) || !producer || vault_key.has_value() == wrapped.has_value() || !created ||
      !rotation || !rekey || !validity)
    return bad("key " + *name_text + ": a field is missing or of the wrong type");
  k.info.topic = *topic;
  k.info.producer = *producer;
  k.info.created = std::chrono::system_clock::time_point(std::chrono::milliseconds(*created));
  k.info.timing = {std::chrono::seconds(*rotation), std::chrono::seconds(*rekey), std::chrono::seconds(*validity)};
  if (auto problem = timing_problem(k.info.timing)) return bad("key " + *name_text + ": " + *problem);
  if (vault_key) k.vault_key = vault::key_id{*vault_key};
  if (wrapped) {
    if (wrapped->empty() || wrapped->size() > 4096) return bad("key " + *name_text + ": a wrapped key of a wrong size");
    k.wrapped = *wrapped;
  }
  return k;
}

result_or_failure<custodian_record> record_from(const json::value& v) {
  if (number(v, "version") != record_version)
    return fail(make_error_code(errc::unsupported_version), "not a version 1 custodian state");
  const auto* keys = v.find("keys");
  const auto* deleted = v.find("deleted");
  if (!keys || !keys->as_array() || !deleted || !deleted->as_array())
    return fail(make_error_code(errc::malformed), "'keys' and 'deleted' must be lists");
  custodian_record r;
  for (const auto& entry : *keys->as_array()) {
    auto k = key_from(entry);
    if (!k) return std::move(k).error();
    r.keys.push_back(std::move(k).value());
  }
  for (const auto& entry : *deleted->as_array()) {
    auto name = entry.as_string() ? key_name_from_hex(*entry.as_string())
                                  : result_or_failure<key_name>(fail(make_error_code(errc::malformed), "not text"));
    if (!name) return fail(make_error_code(errc::malformed), "a deleted key's name: " + name.error().message());
    r.deleted.push_back(name.value());
  }
  return r;
}

}  // namespace

result_or_failure<custodian_record> read_custodian_record(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return custodian_record{};
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(std::make_error_code(std::errc::io_error), file.string() + ": cannot read");
  const std::string contents(std::istreambuf_iterator<char>(in), {});
  auto parsed = json::parse(contents, {.max_size = 64 << 20});
  if (!parsed) return fail(parsed.error().code, file.string() + ": " + parsed.error().message());
  auto r = record_from(parsed.value());
  if (!r) return fail(r.error().code, file.string() + ": " + r.error().message());
  return r;
}

result_or_failure<> write_custodian_record(const std::filesystem::path& file, const custodian_record& r) {
  json::value v;
  v["version"] = record_version;
  json::value keys = json::array{}, deleted = json::array{};
  for (const auto& k : r.keys) keys.push_back(key_json(k));
  for (const auto& name : r.deleted) deleted.push_back(to_hex(name));
  v["keys"] = std::move(keys);
  v["deleted"] = std::move(deleted);
  return vault::write_file_atomically(file, json::dump(v, true) + "\n");
}

}  // namespace nodus::kafka_crypto
