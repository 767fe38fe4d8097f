#pragma once
/// JSON values, a strict and bounded parser (RFC 8259) and a writer, for the node's HTTP/JSON
/// control API. `parse` is total: any bytes in, a value or a failure out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "nodus/core/failure.hpp"

namespace nodus::json {

class value;
/// A JSON array.
using array = std::vector<value>;
/// A JSON object: members in insertion order. Keys are unique in what `parse` returns (a
/// duplicate key in the text is an error); code that builds objects by hand keeps them unique
/// with `operator[]`.
using object = std::vector<std::pair<std::string, value>>;

/// The kinds of JSON value; numbers are stored as an integer or as a double.
enum class kind : std::uint8_t { null, boolean, integer, floating, string, array, object };

/// The kind's name for messages: "null", "a boolean", "an integer", "a number", "a string",
/// "an array", "an object".
std::string_view describe(kind k) noexcept;

/// A JSON value: null, a boolean, a number (an int64 or a double), a string, an array or an
/// object. Copyable, movable, compared by value.
class value {
public:
  /// Null.
  value() noexcept = default;
  /// Null.
  value(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  /// A boolean.
  value(bool b) : v_(b) {}  // NOLINT(google-explicit-constructor)
  /// An integer.
  value(int i) : v_(std::int64_t{i}) {}  // NOLINT(google-explicit-constructor)
  /// An integer.
  value(long i) : v_(std::int64_t{i}) {}  // NOLINT(google-explicit-constructor)
  /// An integer.
  value(long long i) : v_(std::int64_t{i}) {}  // NOLINT(google-explicit-constructor)
  /// An integer.
  value(unsigned i) : v_(std::int64_t{i}) {}  // NOLINT(google-explicit-constructor)
  /// An integer, or a double above INT64_MAX.
  value(unsigned long i) : value(static_cast<unsigned long long>(i)) {}  // NOLINT(google-explicit-constructor)
  /// An integer, or a double above INT64_MAX.
  value(unsigned long long i);  // NOLINT(google-explicit-constructor)
  /// A double (NaN and infinities are written as null by `dump`).
  value(double d) : v_(d) {}  // NOLINT(google-explicit-constructor)
  /// A string (a null pointer gives null). Any bytes: `dump` replaces invalid UTF-8.
  value(const char* s);  // NOLINT(google-explicit-constructor)
  /// A string.
  value(std::string s) : v_(std::move(s)) {}  // NOLINT(google-explicit-constructor)
  /// A string.
  value(std::string_view s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  /// An array.
  value(array a) : v_(std::move(a)) {}  // NOLINT(google-explicit-constructor)
  /// An object.
  value(object o) : v_(std::move(o)) {}  // NOLINT(google-explicit-constructor)

  /// What the value holds.
  json::kind kind() const noexcept { return static_cast<json::kind>(v_.index()); }
  bool is_null() const noexcept { return kind() == json::kind::null; }                        ///< null
  bool is_bool() const noexcept { return kind() == json::kind::boolean; }                     ///< true or false
  bool is_number() const noexcept { return is_integer() || kind() == json::kind::floating; }  ///< any number
  /// A number stored as an integer: one written without fraction or exponent that fits int64,
  /// or made from an integer type. `as_int` also converts doubles that are exact integers.
  bool is_integer() const noexcept { return kind() == json::kind::integer; }
  bool is_string() const noexcept { return kind() == json::kind::string; }  ///< a string
  bool is_array() const noexcept { return kind() == json::kind::array; }    ///< an array
  bool is_object() const noexcept { return kind() == json::kind::object; }  ///< an object

  /// The boolean, or nothing for another kind.
  std::optional<bool> as_bool() const noexcept;
  /// An integer, or a double that is an exact integer in int64's range; nothing otherwise.
  std::optional<std::int64_t> as_int() const noexcept;
  /// Any number (an integer beyond 2^53 is rounded to the nearest double); nothing otherwise.
  std::optional<double> as_double() const noexcept;
  /// The string, or nullptr when the value is not a string.
  const std::string* as_string() const noexcept { return std::get_if<std::string>(&v_); }
  /// The array, or nullptr when the value is not an array.
  const array* as_array() const noexcept { return std::get_if<array>(&v_); }
  /// The array, or nullptr when the value is not an array.
  array* as_array() noexcept { return std::get_if<array>(&v_); }
  /// The object, or nullptr when the value is not an object.
  const object* as_object() const noexcept { return std::get_if<object>(&v_); }
  /// The object, or nullptr when the value is not an object.
  object* as_object() noexcept { return std::get_if<object>(&v_); }

  /// The member `key` of an object; nullptr when absent or when the value is not an object.
  const value* find(std::string_view key) const noexcept;
  /// As the const `find`.
  value* find(std::string_view key) noexcept;
  /// The member `key` of an object, appended as null when absent. A null value becomes an
  /// empty object first; any other kind throws `std::logic_error`.
  value& operator[](std::string_view key);
  /// Appends to an array. A null value becomes an empty array first; any other kind throws
  /// `std::logic_error`.
  void push_back(value v);

  /// Equal kinds and contents; numbers compare by their exact value, so `1` (an integer) equals
  /// `1.0` (a double). Object members compare in order.
  friend bool operator==(const value& a, const value& b);

private:
  // The alternatives' order is `json::kind`'s.
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, array, object> v_;
};

/// Limits on what `parse` accepts.
struct parse_limits {
  std::size_t max_size = 1 << 20;  ///< bytes of text
  /// Arrays and objects nested deeper than this are refused (0: only a scalar). Parsing,
  /// `dump`, `==` and destruction recurse once per level, so keep it to a few hundred at most.
  std::size_t max_depth = 64;
};

/// Parses JSON text (RFC 8259, strictly). Whitespace is allowed around the value, and the value
/// may be a scalar. Strings must be valid UTF-8; `\uXXXX` escapes (surrogate pairs included) are
/// decoded to UTF-8. A number without fraction or exponent that fits int64 is an integer, any
/// other a double; one beyond double's range is an error (one too small for it is 0).
/// Total: any bytes in, a value or a failure out, with `errc::malformed` (`errc::too_large` over
/// `limits`) and a reason naming what and where, e.g.
/// `JSON: expected ':' after an object key at offset 17`. Never throws, and recurses only as deep
/// as `limits.max_depth`. A parsed value takes up to about 40 bytes of memory per byte of text.
result_or_failure<value> parse(std::string_view text, parse_limits limits = {});

/// The value as JSON text: compact, or with `pretty` two-space indentation and one array element
/// or object member per line. Always valid JSON: control characters, '"' and '\\' are escaped,
/// invalid UTF-8 in strings becomes U+FFFD, NaN and infinities are written as null. Doubles are
/// written in their shortest form that reads back exactly, with ".0" added when that has no
/// '.' or exponent (so they read back as doubles); integers without a decimal point.
std::string dump(const value& v, bool pretty = false);

}  // namespace nodus::json
