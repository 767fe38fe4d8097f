#include "json_fields.hpp"

#include <array>

namespace nodus::kafka_crypto::detail {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

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

std::string base64_encode(byte_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(alphabet[(v >> shift) & 63]);
  }
  if (i < data.size()) {
    const unsigned v = (data[i] << 16) | (i + 1 < data.size() ? data[i + 1] << 8 : 0);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  bytes out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::array<int, 4> s{};
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
        s[j] = 0;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after padding
      s[j] = sextet(c);
      if (s[j] < 0) return std::nullopt;
    }
    const unsigned v = (s[0] << 18) | (s[1] << 12) | (s[2] << 6) | s[3];
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    if (padding < 2) out.push_back(static_cast<std::uint8_t>(v >> 8));
    if (padding < 1) out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

}  // namespace nodus::kafka_crypto::detail
