#include "service_support.hpp"
#include <ctime>

namespace nodus::cli::daemon {

std::string text_field(const json::value& body, std::string_view key) {
  const auto* v = body.find(key);
  return v && v->as_string() ? *v->as_string() : std::string();
}

bool text_list_field(const json::value& body, std::string_view key, std::vector<std::string>& out) {
  const auto* v = body.find(key);
  if (!v || v->is_null()) return true;
  const auto* items = v->as_array();
  if (!items) return false;
  for (const auto& item : *items) {
    if (!item.as_string()) return false;
    out.push_back(*item.as_string());
  }
  return true;
}

result_or_failure<std::vector<address>> address_list_field(const json::value& body, std::string_view key) {
  std::vector<std::string> items;
  if (!text_list_field(body, key, items))
    return nodus::fail(make_error_code(errc::malformed), "'" + std::string(key) + "' must be a list of addresses");
  std::vector<address> out;
  for (const auto& item : items) {
    auto parsed = address::parse(item);
    if (!parsed) return nodus::fail(parsed.error(), "'" + std::string(key) + "': '" + item + "' is not an address");
    out.push_back(std::move(parsed).value());
  }
  return out;
}

result_or_failure<std::int64_t> millis_field(const json::value& body, std::string_view key, std::int64_t fallback) {
  const auto* v = body.find(key);
  if (!v || v->is_null()) return fallback;
  const auto ms = v->as_int();
  if (!ms || *ms <= 0 || *ms > 24ll * 3600 * 1000)
    return nodus::fail(make_error_code(errc::malformed),
                       "'" + std::string(key) + "' must be a positive number of milliseconds (at most a day)");
  return *ms;
}

result_or_failure<route> route_field(const json::value& body, std::string_view key) {
  const auto text = text_field(body, key);
  if (text.empty())
    return nodus::fail(make_error_code(errc::empty_route), "'" + std::string(key) + "' (a route) is required");
  auto parsed = route::parse(text);
  if (!parsed) return nodus::fail(parsed.error(), "'" + text + "' is not a route (" + parsed.error().message() + ")");
  return std::move(parsed).value();
}

json::value texts(const std::vector<address>& addresses) {
  json::value out = json::array{};
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  const auto seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

result_or_failure<std::optional<policy::policy>> policy_field(const json::value& body, std::string_view key) {
  const auto text = text_field(body, key);
  if (text.empty()) return std::optional<policy::policy>();
  auto parsed = policy::parse_policy(text);
  if (!parsed) {
    const auto why = parsed.error().message();
    return nodus::fail(make_error_code(errc::malformed),
                       "'" + std::string(key) + "': " + why.substr(0, why.find('\n')));
  }
  return std::optional<policy::policy>(std::move(parsed).value());
}

}  // namespace nodus::cli::daemon
