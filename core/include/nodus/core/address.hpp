#pragma once
/// Where a message goes: a transport type and a value meaningful to that transport.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "nodus/core/result.hpp"

namespace nodus {

/// The longest address value accepted from text or from the wire.
inline constexpr std::size_t max_address_length = 1024;

/// An address: a transport type byte (0 = local to this node, 1 = TCP, ...) and a value.
/// Text form: `1#127.0.0.1:4000`; a bare string is local (`echoer`).
class address {
public:
  /// The transport type byte.
  using transport_type = std::uint8_t;
  /// The type of addresses served by workers on this node.
  static constexpr transport_type local_type = 0;
  /// The type of TCP addresses (`host:port`), served by nodus::tcp_transport.
  static constexpr transport_type tcp_type = 1;

  address() = default;
  /// An address from its text form, as `parse` reads it: `1#127.0.0.1:4000` is a TCP address,
  /// a text without `#` a local one (`"echoer"`). A text with `#` that is not a well-formed
  /// typed address (`"1#"`, `"x#y"`, `"7#h:1"`: a type no transport of this build knows) throws
  /// `nodus::error` with `errc::invalid_address`; use `parse` to get a result instead.
  /// Local names are not otherwise validated (see `valid_value`).
  address(const char* text) : address(std::string_view(text)) {}  // NOLINT(google-explicit-constructor)
  /// As `address(const char*)`.
  address(std::string text);  // NOLINT(google-explicit-constructor)
  /// As `address(const char*)`.
  explicit address(std::string_view text);
  /// An address of the given transport type, as it is (no parsing, any type).
  address(transport_type type, std::string value) : type_(type), value_(std::move(value)) {}

  /// Parses the text form; refuses empty values, whitespace, `=>`, a non-numeric type and a
  /// type other than `local_type` and `tcp_type` (`errc::invalid_address`).
  static result<address> parse(std::string_view text);
  /// True for the transport types the text form may name: `local_type` and `tcp_type`.
  /// Addresses of other types can still be made in code, with `address(type, value)`.
  static bool known_type(unsigned type) noexcept { return type == local_type || type == tcp_type; }
  /// A fresh local address, `prefix` followed by 16 hex digits from a CSPRNG (OpenSSL's), so
  /// the address cannot be guessed by whoever sees others.
  static address random_local(std::string_view prefix = "");
  /// True for a value an address may have: 1 to `max_address_length` printable ASCII
  /// characters, no space, no `=>`. Addresses parsed from text or decoded from the wire are
  /// always valid, so they can be logged as they are.
  static bool valid_value(std::string_view value) noexcept;

  /// The transport type byte.
  transport_type type() const noexcept { return type_; }
  /// The transport-specific value (a worker name, `host:port`, ...).
  const std::string& value() const noexcept { return value_; }
  /// True when a worker on this node serves the address.
  bool is_local() const noexcept { return type_ == local_type; }

  /// The text form, which `parse` reads back to an equal address.
  std::string to_string() const;

  friend bool operator==(const address&, const address&) = default;
  friend auto operator<=>(const address&, const address&) = default;

private:
  transport_type type_ = local_type;
  std::string value_;
};

}  // namespace nodus

template <>
struct std::hash<nodus::address> {
  std::size_t operator()(const nodus::address& a) const noexcept {
    return std::hash<std::string>{}(a.value()) * 31 + a.type();
  }
};

namespace nodus {
/// The text form of `a` safe for a log line: as `to_string`, with every byte that is not
/// printable ASCII (or a backslash) written as \xNN. Only addresses made in code (never
/// parsed or decoded) can hold such bytes.
std::string loggable(const address& a);
}  // namespace nodus

template <>
struct fmt::formatter<nodus::address> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const nodus::address& a, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(nodus::loggable(a), ctx);
  }
};
