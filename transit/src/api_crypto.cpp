// transit/encrypt, decrypt, rewrap, datakey, random, hmac, verify; single requests and
// `batch_input` lists (one result per item, in order, each with the item's `reference`).
#include "api_support.hpp"
#include "hex_text.hpp"
#include "nodus/core/base64.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::transit::detail {
namespace {

// The bytes of base64 member `key` of an item (empty when absent); `bad` set when not base64.
bytes optional_bytes(const json::value& item, std::string_view key, std::string& bad) {
  return base64_member(item, key, bad).value_or(bytes{});
}

json::value sealed_json(const sealed_text& s) {
  json::value d;
  d["ciphertext"] = s.ciphertext;
  d["key_version"] = s.key_version;
  return d;
}

// A key missing at encrypt is made (Vault's upsert) when the token may create it: derived when
// the request has a context, of the body's `type`.
std::optional<http_response> upsert(const call& c, const std::string& name) {
  if (c.options.keys->read(name)) return std::nullopt;
  if (!c.options.tokens->authorize(c.token, operation::create, name).allowed) return std::nullopt;
  std::string bad;
  const auto type_text = text_member(c.body, "type", bad).value_or("aes256-gcm96");
  const auto type = parse_key_type(type_text);
  if (!type) return bad_request("unknown key type '" + type_text + "'");
  bool has_context = c.body.find("context") != nullptr;
  if (const auto* batch = c.body.find("batch_input"); batch && batch->as_array() && !batch->as_array()->empty())
    has_context = batch->as_array()->front().is_object() && batch->as_array()->front().find("context");
  auto made = c.options.keys->create(name, *type, has_context);
  if (!made) return error_response(made.error());
  return std::nullopt;
}

}  // namespace

http_response encrypt_endpoint(const call& c) {
  const auto& name = c.segments[3];
  http_response refused;
  if (!allowed(c, operation::encrypt, name, refused)) return refused;
  if (auto failed = upsert(c, name)) return *failed;
  std::string bad;
  const auto version = int_member(c.body, "key_version", 0, bad);
  if (!bad.empty()) return bad_request(bad);
  return per_item(c, [&](const json::value& item) -> item_result {
    std::string why;
    auto plaintext = base64_member(item, "plaintext", why);
    const auto context = optional_bytes(item, "context", why);
    const auto aad = optional_bytes(item, "associated_data", why);
    if (!why.empty()) return item_error(why);
    if (!plaintext) return item_error("missing plaintext to encrypt");
    auto sealed = c.options.keys->encrypt(name, *plaintext, context, static_cast<int>(version), aad);
    vault::wipe_bytes(plaintext->data(), plaintext->size());
    if (!sealed) return from(sealed.error());
    return {sealed_json(sealed.value()), std::nullopt};
  });
}

http_response decrypt_endpoint(const call& c) {
  const auto& name = c.segments[3];
  http_response refused;
  if (!allowed(c, operation::decrypt, name, refused)) return refused;
  return per_item(c, [&](const json::value& item) -> item_result {
    std::string why;
    const auto ciphertext = text_member(item, "ciphertext", why);
    const auto context = optional_bytes(item, "context", why);
    const auto aad = optional_bytes(item, "associated_data", why);
    if (!why.empty()) return item_error(why);
    if (!ciphertext) return item_error("missing ciphertext to decrypt");
    auto plain = c.options.keys->decrypt(name, *ciphertext, context, aad);
    if (!plain) return from(plain.error());
    json::value d;
    d["plaintext"] = base64_encode(plain.value().view());
    return {std::move(d), std::nullopt};
  });
}

http_response rewrap_endpoint(const call& c) {
  const auto& name = c.segments[3];
  http_response refused;
  if (!allowed(c, operation::rewrap, name, refused)) return refused;
  std::string bad;
  const auto version = int_member(c.body, "key_version", 0, bad);
  if (!bad.empty()) return bad_request(bad);
  return per_item(c, [&](const json::value& item) -> item_result {
    std::string why;
    const auto ciphertext = text_member(item, "ciphertext", why);
    const auto context = optional_bytes(item, "context", why);
    if (!why.empty()) return item_error(why);
    if (!ciphertext) return item_error("missing ciphertext to rewrap");
    auto sealed = c.options.keys->rewrap(name, *ciphertext, context, static_cast<int>(version));
    if (!sealed) return from(sealed.error());
    return {sealed_json(sealed.value()), std::nullopt};
  });
}

http_response datakey_endpoint(const call& c) {
  const auto& kind = c.segments[3];
  const auto& name = c.segments[4];
  if (kind != "plaintext" && kind != "wrapped")
    return bad_request("the data key type is 'plaintext' or 'wrapped', not '" + kind + "'");
  http_response refused;
  if (!allowed(c, operation::datakey, name, refused)) return refused;
  std::string bad;
  const auto context = optional_bytes(c.body, "context", bad);
  const auto bits = int_member(c.body, "bits", 256, bad);
  const auto version = int_member(c.body, "key_version", 0, bad);
  if (!bad.empty()) return bad_request(bad);
  if (bits != 128 && bits != 256 && bits != 512) return bad_request("invalid bits: 128, 256 or 512");
  auto key = vault::random_bytes(static_cast<std::size_t>(bits / 8));
  auto sealed = c.options.keys->encrypt(name, key, context, static_cast<int>(version));
  if (!sealed) {
    vault::wipe_bytes(key.data(), key.size());
    return error_response(sealed.error());
  }
  json::value d = sealed_json(sealed.value());
  if (kind == "plaintext") d["plaintext"] = base64_encode(key);
  vault::wipe_bytes(key.data(), key.size());
  return data_response(std::move(d));
}

http_response random_endpoint(const call& c) {
  if (c.method != "POST")
    return error_response(make_error_code(transit_errc::method_not_allowed), "unsupported operation");
  http_response refused;
  if (!allowed(c, operation::random, "", refused)) return refused;
  std::string bad;
  auto count = int_member(c.body, "bytes", 32, bad);
  auto format = text_member(c.body, "format", bad).value_or("base64");
  // .../random[/:source][/:bytes] (the source, platform|seal|all, is ignored: OpenSSL's CSPRNG)
  const auto first = c.segments[1] == "sys" ? 4u : 3u;
  for (std::size_t i = first; i < c.segments.size(); ++i) {
    const auto& s = c.segments[i];
    if (s == "hex" || s == "base64") {
      format = s;
      continue;
    }
    if (s == "platform" || s == "seal" || s == "all") continue;
    json::value n = s;
    count = int_member(json::object{{"bytes", n}}, "bytes", 0, bad);
  }
  if (!bad.empty()) return bad_request(bad);
  if (count <= 0 || count > 128 * 1024) return bad_request("'bytes' must be between 1 and 131072");
  if (format != "base64" && format != "hex") return bad_request("unsupported encoding format '" + format + "'");
  const auto b = vault::random_bytes(static_cast<std::size_t>(count));
  json::value d;
  if (format == "base64") {
    d["random_bytes"] = base64_encode(b);
  } else {
    d["random_bytes"] = hex_text(b);
  }
  return data_response(std::move(d));
}

namespace {

// The algorithm of hmac/verify (path segment or body): only sha2-256 is served.
std::optional<http_response> check_algorithm(const call& c) {
  std::string bad;
  // Vault reads `algorithm` for hmac and `hash_algorithm` for verify; either is taken here.
  auto algorithm =
      text_member(c.body, "algorithm", bad).value_or(text_member(c.body, "hash_algorithm", bad).value_or("sha2-256"));
  if (c.segments.size() == 5) algorithm = c.segments[4];
  if (!bad.empty()) return bad_request(bad);
  if (algorithm != "sha2-256")
    return bad_request("unsupported algorithm '" + algorithm + "': this service computes sha2-256 HMACs");
  return std::nullopt;
}

}  // namespace

http_response hmac_endpoint(const call& c) {
  const auto& name = c.segments[3];
  http_response refused;
  if (!allowed(c, operation::hmac, name, refused)) return refused;
  if (auto bad_algorithm = check_algorithm(c)) return *bad_algorithm;
  std::string bad;
  const auto version = int_member(c.body, "key_version", 0, bad);
  if (!bad.empty()) return bad_request(bad);
  return per_item(c, [&](const json::value& item) -> item_result {
    std::string why;
    const auto input = base64_member(item, "input", why);
    if (!why.empty()) return item_error(why);
    if (!input) return item_error("missing input for HMAC");
    auto mac = c.options.keys->hmac(name, *input, static_cast<int>(version));
    if (!mac) return from(mac.error());
    json::value d;
    d["hmac"] = mac.value();
    return {std::move(d), std::nullopt};
  });
}

http_response verify_endpoint(const call& c) {
  const auto& name = c.segments[3];
  http_response refused;
  if (!allowed(c, operation::verify, name, refused)) return refused;
  if (auto bad_algorithm = check_algorithm(c)) return *bad_algorithm;
  return per_item(c, [&](const json::value& item) -> item_result {
    std::string why;
    const auto input = base64_member(item, "input", why);
    const auto mac = text_member(item, "hmac", why);
    if (!why.empty()) return item_error(why);
    if (const auto* sig = item.find("signature"); sig && !sig->is_null())
      return item_error("signatures are not supported by this service: give 'hmac'");
    if (!input) return item_error("missing input to verify");
    if (!mac) return item_error("missing 'hmac' to verify");
    auto valid = c.options.keys->verify_hmac(name, *input, *mac);
    if (!valid) return from(valid.error());
    json::value d;
    d["valid"] = valid.value();
    return {std::move(d), std::nullopt};
  });
}

}  // namespace nodus::transit::detail
