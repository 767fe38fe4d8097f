// The transit API's entry: parsing the request, routing by path, Vault's envelope and errors.
#include <spdlog/logger.h>

#include <charconv>

#include "api_support.hpp"
#include "hex_text.hpp"
#include "nodus/core/base64.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::transit {
namespace detail {
namespace {

unsigned status_of(std::error_code code) {
  if (code.category() != transit_category()) return 500;
  switch (static_cast<transit_errc>(code.value())) {
    case transit_errc::invalid_request: return 400;
    case transit_errc::key_not_found: return 400;
    case transit_errc::permission_denied: return 403;
    case transit_errc::unsupported_path: return 404;
    case transit_errc::method_not_allowed: return 405;
    case transit_errc::internal: return 500;
  }
  return 500;
}

// Vault's request_id: a random UUID-shaped hex string.
std::string request_id() {
  const auto hex = hex_text(vault::random_bytes(16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace

http_response data_response(json::value data) {
  json::value out;
  out["request_id"] = request_id();
  out["lease_id"] = "";
  out["renewable"] = false;
  out["lease_duration"] = 0;
  out["data"] = std::move(data);
  out["wrap_info"] = nullptr;
  out["warnings"] = nullptr;
  out["auth"] = nullptr;
  return {200, json::dump(out)};
}

http_response no_content() { return {204, ""}; }

http_response error_response(std::error_code code, const std::string& message) {
  json::value out;
  out["errors"] = json::array{};
  out["errors"].push_back(message);
  return {status_of(code), json::dump(out)};
}

http_response error_response(const failure& f) { return error_response(f.code, f.message()); }

http_response bad_request(const std::string& message) {
  return error_response(make_error_code(transit_errc::invalid_request), message);
}

bool allowed(const call& c, operation op, std::string_view key, http_response& refused) {
  const auto d = c.options.tokens->authorize(c.token, op, key);
  if (d.allowed) return true;
  if (c.options.log)
    c.options.log->warn("transit: refused {} on key '{}' for token accessor {}: {}", operation_name(op),
                        printable_cut(key, 128), d.accessor.empty() ? "(none)" : d.accessor, d.reason);
  refused = error_response(make_error_code(transit_errc::permission_denied), "permission denied");
  return false;
}

std::optional<std::string> text_member(const json::value& body, std::string_view key, std::string& bad) {
  const auto* v = body.find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->as_string()) {
    bad = "'" + std::string(key) + "' must be a string";
    return std::nullopt;
  }
  return *v->as_string();
}

std::optional<bytes> base64_member(const json::value& body, std::string_view key, std::string& bad) {
  auto text = text_member(body, key, bad);
  if (!text) return std::nullopt;
  auto decoded = base64_decode(*text);
  if (!decoded) bad = "'" + std::string(key) + "' must be base64 (standard alphabet, padded)";
  return decoded;
}

std::int64_t int_member(const json::value& body, std::string_view key, std::int64_t fallback, std::string& bad) {
  const auto* v = body.find(key);
  if (!v || v->is_null()) return fallback;
  if (auto n = v->as_int()) return *n;
  if (const auto* s = v->as_string()) {
    std::int64_t n = 0;
    const auto* end = s->data() + s->size();
    if (!s->empty() && std::from_chars(s->data(), end, n).ptr == end) return n;
  }
  bad = "'" + std::string(key) + "' must be an integer";
  return fallback;
}

std::optional<bool> bool_member(const json::value& body, std::string_view key, std::string& bad) {
  const auto* v = body.find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (auto b = v->as_bool()) return b;
  if (const auto* s = v->as_string(); s && (*s == "true" || *s == "false")) return *s == "true";
  bad = "'" + std::string(key) + "' must be a boolean";
  return std::nullopt;
}

item_result item_error(std::string message) {
  return {{}, failure{make_error_code(transit_errc::invalid_request), std::move(message)}};
}

item_result from(const failure& f) { return {{}, f}; }

http_response per_item(const call& c, const item_handler& handle) {
  const auto* batch = c.body.find("batch_input");
  if (!batch || batch->is_null()) {
    auto r = handle(c.body);
    return r.error ? error_response(*r.error) : data_response(std::move(r.data));
  }
  const auto* items = batch->as_array();
  if (!items || items->empty()) return bad_request("'batch_input' must be a non-empty list of objects");
  std::string bad;
  const auto partial = int_member(c.body, "partial_failure_response_code", 400, bad);
  if (!bad.empty() || partial < 200 || partial > 599) return bad_request("bad 'partial_failure_response_code'");
  json::value results = json::array{};
  bool failed = false;
  for (const auto& item : *items) {
    item_result r = item.is_object() ? handle(item) : item_error("a batch item must be an object");
    json::value out = r.error ? json::value{} : std::move(r.data);
    if (r.error) {
      out["error"] = r.error->message();
      failed = true;
    }
    if (const auto* ref = item.is_object() ? item.find("reference") : nullptr) out["reference"] = *ref;
    results.push_back(std::move(out));
  }
  json::value data;
  data["batch_results"] = std::move(results);
  auto response = data_response(std::move(data));
  if (failed) response.status = static_cast<unsigned>(partial);
  return response;
}

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    if (slash != 0) out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

http_response token_lookup_self(const call& c) {
  auto holder = c.options.tokens->lookup(c.token);
  if (!holder) return error_response(make_error_code(transit_errc::permission_denied), "permission denied");
  json::value data;
  data["accessor"] = holder->accessor;
  data["display_name"] = holder->display_name;
  data["policies"] = json::array{};
  for (const auto& p : holder->policies) data["policies"].push_back(p);
  data["creation_time"] = static_cast<std::int64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(holder->created.time_since_epoch()).count());
  data["expire_time"] = nullptr;
  if (holder->expires)
    data["ttl"] = static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(*holder->expires - std::chrono::system_clock::now()).count());
  else
    data["ttl"] = 0;
  data["type"] = "service";
  return data_response(std::move(data));
}

http_response health() {
  json::value out;
  out["initialized"] = true;
  out["sealed"] = false;
  out["standby"] = false;
  out["version"] = "nodus-transit";
  return {200, json::dump(out)};
}

http_response route(const call& c) {
  const auto& s = c.segments;
  auto unsupported = [&] {
    return error_response(make_error_code(transit_errc::unsupported_path), "unsupported path");
  };
  if (s.size() < 2 || s[0] != "v1") return unsupported();
  if (s[1] == "sys" && s.size() == 3 && s[2] == "health") return health();
  if (s[1] == "sys" && s.size() >= 4 && s[2] == "tools" && s[3] == "random") return random_endpoint(c);
  if (s[1] == "auth" && s.size() == 4 && s[2] == "token" && s[3] == "lookup-self") return token_lookup_self(c);
  if (s[1] == "transform" && c.options.transforms) return transform_endpoint(c);
  if (s[1] != "transit" || s.size() < 3) return unsupported();
  const auto& what = s[2];
  if (what == "keys") return keys_endpoint(c);
  if (what == "random") return random_endpoint(c);
  if (c.method != "POST")
    return error_response(make_error_code(transit_errc::method_not_allowed), "unsupported operation");
  if (what == "encrypt" && s.size() == 4) return encrypt_endpoint(c);
  if (what == "decrypt" && s.size() == 4) return decrypt_endpoint(c);
  if (what == "rewrap" && s.size() == 4) return rewrap_endpoint(c);
  if (what == "datakey" && s.size() == 5) return datakey_endpoint(c);
  if (what == "hmac" && (s.size() == 4 || s.size() == 5)) return hmac_endpoint(c);
  if (what == "verify" && (s.size() == 4 || s.size() == 5)) return verify_endpoint(c);
  return unsupported();
}

}  // namespace
}  // namespace detail

service::service(service_options options) : options_(std::move(options)) {}

http_response service::handle(const http_request& request) const {
  try {
    const auto question = request.target.find('?');
    detail::call c{options_,
                   request.method,
                   detail::split_path(std::string_view(request.target).substr(0, question)),
                   question == std::string::npos ? std::string() : request.target.substr(question + 1),
                   json::object{},
                   request.token};
    if (c.method == "PUT") c.method = "POST";  // Vault treats them alike
    if (c.method == "GET" && (c.query == "list=true" || c.query.find("list=true&") == 0)) c.method = "LIST";
    if (!request.body.empty()) {
      auto parsed = json::parse(request.body, {.max_size = max_request_body, .max_depth = 16});
      if (!parsed) return detail::bad_request("failed to parse JSON input: " + parsed.error().message());
      if (!parsed.value().is_object()) return detail::bad_request("the request body must be a JSON object");
      c.body = std::move(parsed).value();
    }
    return detail::route(c);
  } catch (const std::exception& e) {
    if (options_.log) options_.log->error("transit: a request failed: {}", printable_cut(e.what(), 256));
    return detail::error_response(make_error_code(transit_errc::internal), "internal error");
  }
}

}  // namespace nodus::transit
