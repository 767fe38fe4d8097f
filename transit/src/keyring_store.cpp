// The keyring's state file: per key its settings and, per version, the ids of its two vault
// keys (never key bytes):
//   {"format": 1, "keys": [{"name": "orders", "type": "aes256-gcm96", "derived": false,
//     "deletion_allowed": false, "min_decryption_version": 1, "min_encryption_version": 0,
//     "min_available_version": 1, "latest_version": 2,
//     "versions": [{"version": 1, "aead_key": "k…", "hmac_key": "k…", "created": 1796342400}, …]}]}
#include "keyring_state.hpp"

#include <algorithm>

namespace nodus::transit::detail {
namespace {

using clock = std::chrono::system_clock;

json::value version_json(const stored_version& v) {
  json::value out;
  out["version"] = v.version;
  out["aead_key"] = v.aead_key.value;
  out["hmac_key"] = v.hmac_key.value;
  out["created"] =
      static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(v.created.time_since_epoch()).count());
  return out;
}

json::value key_json(const stored_key& k) {
  json::value out;
  out["name"] = k.info.name;
  out["type"] = type_name(k.info.type);
  out["derived"] = k.info.derived;
  out["deletion_allowed"] = k.info.deletion_allowed;
  out["min_decryption_version"] = k.info.min_decryption_version;
  out["min_encryption_version"] = k.info.min_encryption_version;
  out["min_available_version"] = k.info.min_available_version;
  out["latest_version"] = k.info.latest_version;
  out["versions"] = json::array{};
  for (const auto& [n, v] : k.versions) out["versions"].push_back(version_json(v));
  return out;
}

std::optional<int> int_of(const json::value& v, std::string_view key) {
  const auto* f = v.find(key);
  const auto n = f ? f->as_int() : std::nullopt;
  if (!n || *n < 0 || *n > 1'000'000'000) return std::nullopt;
  return static_cast<int>(*n);
}

std::optional<bool> bool_of(const json::value& v, std::string_view key) {
  const auto* f = v.find(key);
  return f ? f->as_bool() : std::nullopt;
}

std::string text_of(const json::value& v, std::string_view key) {
  const auto* f = v.find(key);
  const auto* s = f ? f->as_string() : nullptr;
  return s ? *s : std::string();
}

}  // namespace

std::string keyring_text(const std::map<std::string, stored_key, std::less<>>& named) {
  json::value out;
  out["format"] = 1;
  out["keys"] = json::array{};
  for (const auto& [name, k] : named) out["keys"].push_back(key_json(k));
  return json::dump(out, true) + "\n";
}

result_or_failure<std::map<std::string, stored_key, std::less<>>> parse_keyring(std::string_view text,
                                                                                const vault::vault& keys,
                                                                                const std::string& file) {
  auto bad = [&](const std::string& why) {
    return nodus::fail(make_error_code(transit_errc::internal), "transit key file " + file + ": " + why);
  };
  auto parsed = json::parse(text);
  if (!parsed) return bad(parsed.error().message());
  const auto& root = parsed.value();
  if (int_of(root, "format") != 1) return bad("not format 1");
  const auto* list = root.find("keys") ? root.find("keys")->as_array() : nullptr;
  if (!list) return bad("no 'keys' list");
  const auto present = keys.list();
  auto in_vault = [&](const std::string& id) {
    return std::binary_search(present.begin(), present.end(), vault::key_id{id});
  };
  std::map<std::string, stored_key, std::less<>> named;
  for (const auto& entry : *list) {
    stored_key k;
    k.info.name = text_of(entry, "name");
    const auto type = parse_key_type(text_of(entry, "type"));
    const auto derived = bool_of(entry, "derived"), deletion = bool_of(entry, "deletion_allowed");
    const auto min_dec = int_of(entry, "min_decryption_version"), min_enc = int_of(entry, "min_encryption_version"),
               min_avail = int_of(entry, "min_available_version"), latest = int_of(entry, "latest_version");
    const auto* versions = entry.find("versions") ? entry.find("versions")->as_array() : nullptr;
    if (!valid_key_name(k.info.name) || !type || !derived || !deletion || !min_dec || !min_enc || !min_avail ||
        !latest || !versions || named.contains(k.info.name))
      return bad("a key entry is malformed or repeated ('" + k.info.name + "')");
    k.info.type = *type;
    k.info.derived = *derived;
    k.info.deletion_allowed = *deletion;
    k.info.min_decryption_version = *min_dec;
    k.info.min_encryption_version = *min_enc;
    k.info.min_available_version = *min_avail;
    k.info.latest_version = *latest;
    for (const auto& v : *versions) {
      stored_version sv;
      const auto n = int_of(v, "version");
      const auto created = v.find("created") ? v.find("created")->as_int() : std::nullopt;
      sv.aead_key.value = text_of(v, "aead_key");
      sv.hmac_key.value = text_of(v, "hmac_key");
      if (!n || !created || *n < *min_avail || *n > *latest || k.versions.contains(*n))
        return bad("key '" + k.info.name + "' has a malformed version entry");
      if (!in_vault(sv.aead_key.value) || !in_vault(sv.hmac_key.value))
        return bad("key '" + k.info.name + "' version " + std::to_string(*n) + ": its vault key is missing");
      sv.version = *n;
      sv.created = clock::time_point(std::chrono::seconds(*created));
      k.versions.emplace(*n, std::move(sv));
    }
    if (static_cast<int>(k.versions.size()) != *latest - *min_avail + 1)
      return bad("key '" + k.info.name + "' is missing versions");
    named.emplace(k.info.name, std::move(k));
  }
  return named;
}

}  // namespace nodus::transit::detail
