#include "nodus/core/address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>

namespace nodus {
namespace {

bool valid_value(std::string_view v) {
  if (v.empty() || v.size() > max_address_length) return false;
  if (v.find("=>") != std::string_view::npos) return false;
  return std::none_of(v.begin(), v.end(), [](unsigned char c) { return std::isspace(c) || c < 0x20; });
}

}  // namespace

result<address> address::parse(std::string_view text) {
  const auto hash = text.find('#');
  if (hash == std::string_view::npos) {
    if (!valid_value(text)) return errc::invalid_address;
    return address(std::string(text));
  }
  // A typed address: 1 to 3 decimal digits, '#', the value.
  const auto type_text = text.substr(0, hash);
  unsigned type = 0;
  const auto [end, ec] = std::from_chars(type_text.data(), type_text.data() + type_text.size(), type);
  if (type_text.empty() || type_text.size() > 3 || ec != std::errc{} ||
      end != type_text.data() + type_text.size() || type > 255)
    return errc::invalid_address;
  const auto value = text.substr(hash + 1);
  if (!valid_value(value)) return errc::invalid_address;
  return address(static_cast<transport_type>(type), std::string(value));
}

address address::random_local(std::string_view prefix) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return address(fmt::format("{}{:016x}", prefix, generator()));
}

std::string address::to_string() const {
  // A local value containing '#' is written with its type so it parses back as local.
  if (is_local() && value_.find('#') == std::string::npos) return value_;
  return fmt::format("{}#{}", type_, value_);
}

}  // namespace nodus
