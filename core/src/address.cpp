#include "nodus/core/address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "nodus/core/bytes.hpp"
#include "nodus/core/random.hpp"

namespace nodus {
namespace {

bool printable_ascii(unsigned char c) { return c > 0x20 && c < 0x7f; }

}  // namespace

bool address::valid_value(std::string_view v) noexcept {
  if (v.empty() || v.size() > max_address_length) return false;
  if (v.find("=>") != std::string_view::npos) return false;
  return std::all_of(v.begin(), v.end(), [](unsigned char c) { return printable_ascii(c); });
}

std::string loggable(const address& a) {
  auto text = a.to_string();
  if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return printable_ascii(c) && c != '\\'; }))
    return text;
  return printable(as_bytes(text));
}

namespace {

// A typed address `<type>#<value>`: 1 to 3 decimal digits naming a known type, '#', a valid
// value. Empty with the reason when `text` is not one.
result<address> parse_typed(std::string_view text, std::size_t hash) {
  const auto type_text = text.substr(0, hash);
  unsigned type = 0;
  const auto [end, ec] = std::from_chars(type_text.data(), type_text.data() + type_text.size(), type);
  if (type_text.empty() || type_text.size() > 3 || ec != std::errc{} || end != type_text.data() + type_text.size() ||
      !address::known_type(type))
    return errc::invalid_address;
  const auto value = text.substr(hash + 1);
  if (!address::valid_value(value)) return errc::invalid_address;
  return address(static_cast<address::transport_type>(type), std::string(value));
}

}  // namespace

result<address> address::parse(std::string_view text) {
  const auto hash = text.find('#');
  if (hash == std::string_view::npos) {
    if (!valid_value(text)) return errc::invalid_address;
    return address(local_type, std::string(text));
  }
  return parse_typed(text, hash);
}

address::address(std::string text) {
  const auto hash = text.find('#');
  if (hash == std::string::npos) {
    value_ = std::move(text);
    return;
  }
  *this = address(std::string_view(text));
}

address::address(std::string_view text) {
  const auto hash = text.find('#');
  if (hash == std::string_view::npos) {
    value_ = std::string(text);
    return;
  }
  auto typed = parse_typed(text, hash);
  if (!typed)
    throw nodus::error(typed.error(), fmt::format("'{}' is not an address (a name, or TYPE#VALUE with TYPE 0 "
                                                  "or 1, as in 1#127.0.0.1:4000)",
                                                  printable(as_bytes(text.substr(0, 200)))));
  *this = std::move(typed).value();
}

address address::random_local(std::string_view prefix) { return address(local_type, random_hex(prefix, 8)); }

std::string address::to_string() const {
  // A local value containing '#' is written with its type so it parses back as local.
  if (is_local() && value_.find('#') == std::string::npos) return value_;
  return fmt::format("{}#{}", type_, value_);
}

}  // namespace nodus
