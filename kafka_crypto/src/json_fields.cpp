#include "json_fields.hpp"

#include <array>

namespace nodus::kafka_crypto::detail {
namespace {

std::string_view as_text(byte_view b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace

std::optional<json::value> parse_object(byte_view value) {
  auto parsed = json::parse(as_text(value), {.max_depth = 64});
  if (!parsed || !parsed.value().is_object()) return std::nullopt;
  return std::move(parsed).value();
}

json::value* find_path(json::value& root, std::string_view path) {
  json::value* at = &root;
  while (true) {
    const auto dot = path.find('.');
    const auto name = path.substr(0, dot);
    if (!at->is_object() || name.empty()) return nullptr;
    at = at->find(name);
    if (!at) return nullptr;
    if (dot == std::string_view::npos) return at;
    path.remove_prefix(dot + 1);
  }
}

std::optional<std::vector<std::string>> parse_field_list(byte_view header_value) {
  auto parsed = json::parse(as_text(header_value), {.max_depth = 2});
  if (!parsed || !parsed.value().is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : *parsed.value().as_array()) {
    if (!v.as_string()) return std::nullopt;
    out.push_back(*v.as_string());
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string field_binding(std::string_view path, std::string_view field_list) {
  std::string out(path);
  out.push_back('\0');
  out.append(field_list);
  return out;
}

}  // namespace nodus::kafka_crypto::detail
