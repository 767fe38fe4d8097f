// transit/keys: list, create, read, delete, rotate, config, trim.
#include "api_support.hpp"

namespace nodus::transit::detail {
namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

json::value key_json(const key_info& k) {
  json::value d;
  d["name"] = k.name;
  d["type"] = type_name(k.type);
  d["keys"] = json::object{};
  for (const auto& v : k.versions) d["keys"][std::to_string(v.version)] = unix_seconds(v.created);
  d["latest_version"] = k.latest_version;
  d["min_available_version"] = k.min_available_version == 1 ? 0 : k.min_available_version;  // Vault: 0 until trimmed
  d["min_decryption_version"] = k.min_decryption_version;
  d["min_encryption_version"] = k.min_encryption_version;
  d["deletion_allowed"] = k.deletion_allowed;
  d["derived"] = k.derived;
  if (k.derived) d["kdf"] = "hkdf_sha256";
  d["exportable"] = false;
  d["allow_plaintext_backup"] = false;
  d["convergent_encryption"] = false;
  d["auto_rotate_period"] = 0;
  d["supports_encryption"] = true;
  d["supports_decryption"] = true;
  d["supports_derivation"] = true;
  d["supports_signing"] = false;
  return d;
}

http_response key_or_error(const result_or_failure<key_info>& k) {
  return k ? data_response(key_json(k.value())) : error_response(k.error());
}

http_response list_keys(const call& c) {
  http_response refused;
  if (!allowed(c, operation::list, "", refused)) return refused;
  const auto names = c.options.keys->names();
  if (names.empty()) return {404, R"({"errors":[]})"};
  json::value d;
  d["keys"] = json::array{};
  for (const auto& n : names) d["keys"].push_back(n);
  return data_response(std::move(d));
}

http_response create_key(const call& c, const std::string& name) {
  http_response refused;
  if (!allowed(c, operation::create, name, refused)) return refused;
  std::string bad;
  const auto type_text = text_member(c.body, "type", bad).value_or("aes256-gcm96");
  const auto derived = bool_member(c.body, "derived", bad).value_or(false);
  const auto convergent = bool_member(c.body, "convergent_encryption", bad).value_or(false);
  const auto exportable = bool_member(c.body, "exportable", bad).value_or(false);
  if (!bad.empty()) return bad_request(bad);
  const auto type = parse_key_type(type_text);
  if (!type)
    return bad_request("unknown key type '" + type_text + "' (this service has aes256-gcm96 and chacha20-poly1305)");
  if (convergent) return bad_request("convergent encryption is not supported by this service");
  if (exportable)
    return bad_request("exportable keys are not supported by this service: key bytes never leave its vault");
  return key_or_error(c.options.keys->create(name, *type, derived));
}

http_response read_key(const call& c, const std::string& name) {
  http_response refused;
  if (!allowed(c, operation::read, name, refused)) return refused;
  auto k = c.options.keys->read(name);
  if (!k && k.error().code == transit_errc::key_not_found) return {404, R"({"errors":[]})"};
  return key_or_error(k);
}

http_response delete_key(const call& c, const std::string& name) {
  http_response refused;
  if (!allowed(c, operation::remove, name, refused)) return refused;
  auto removed = c.options.keys->remove(name);
  return removed ? no_content() : error_response(removed.error());
}

http_response configure_key(const call& c, const std::string& name) {
  http_response refused;
  if (!allowed(c, operation::config, name, refused)) return refused;
  std::string bad;
  key_settings s;
  if (c.body.find("min_decryption_version"))
    s.min_decryption_version = static_cast<int>(int_member(c.body, "min_decryption_version", 0, bad));
  if (c.body.find("min_encryption_version"))
    s.min_encryption_version = static_cast<int>(int_member(c.body, "min_encryption_version", 0, bad));
  s.deletion_allowed = bool_member(c.body, "deletion_allowed", bad);
  if (bool_member(c.body, "exportable", bad).value_or(false))
    return bad_request("exportable keys are not supported by this service: key bytes never leave its vault");
  if (!bad.empty()) return bad_request(bad);
  return key_or_error(c.options.keys->configure(name, s));
}

http_response trim_key(const call& c, const std::string& name) {
  http_response refused;
  if (!allowed(c, operation::trim, name, refused)) return refused;
  std::string bad;
  const auto v = int_member(c.body, "min_available_version", 0, bad);
  if (!bad.empty()) return bad_request(bad);
  if (v <= 0 || v > 1'000'000'000) return bad_request("'min_available_version' must be a positive version");
  return key_or_error(c.options.keys->trim(name, static_cast<int>(v)));
}

}  // namespace

http_response keys_endpoint(const call& c) {
  const auto& s = c.segments;
  auto wrong_method = [] {
    return error_response(make_error_code(transit_errc::method_not_allowed), "unsupported operation");
  };
  if (s.size() == 3) return c.method == "LIST" ? list_keys(c) : wrong_method();
  const auto& name = s[3];
  if (s.size() == 4) {
    if (c.method == "POST") return create_key(c, name);
    if (c.method == "GET") return read_key(c, name);
    if (c.method == "DELETE") return delete_key(c, name);
    return wrong_method();
  }
  if (s.size() == 5 && c.method == "POST") {
    if (s[4] == "rotate") {
      http_response refused;
      if (!allowed(c, operation::rotate, name, refused)) return refused;
      return key_or_error(c.options.keys->rotate(name));
    }
    if (s[4] == "config") return configure_key(c, name);
    if (s[4] == "trim") return trim_key(c, name);
  }
  return error_response(make_error_code(transit_errc::unsupported_path), "unsupported path");
}

}  // namespace nodus::transit::detail
