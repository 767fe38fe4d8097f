#pragma once
/// Attribute-based policies: who may do what, decided over a peer's identifier and the attributes
/// of its credential. Every place that accepts messages (listeners, relays, streams, portals, the
/// key custodian) holds a `policy` and asks `allows(subject)`; docs/policies.md has examples.
///
/// Grammar (keywords are lower case; whitespace is spaces, tabs and line ends, between any tokens):
///
///     expression := or
///     or         := and ("or" and)*
///     and        := not ("and" not)*
///     not        := "not" not | primary
///     primary    := "true" | "false" | "(" expression ")" | "exists" "(" attribute ")"
///                 | attribute "=" string | attribute "!=" string | attribute "in" list
///     attribute  := "subject." name           name := segment ("." segment)*
///     segment    := one or more of A-Z a-z 0-9 _ -
///     list       := "[" (string ("," string)*)? "]"
///     string     := '"' (any byte but '"' and '\', or the escapes \" and \\)* '"'
///
/// So `or` binds loosest, then `and`, then `not`, then the comparisons: `not subject.a = "x" or
/// subject.b = "y"` is `(not (subject.a = "x")) or (subject.b = "y")`. A comparison's left side is
/// always an attribute and its right side strings.
///
/// Meaning:
/// - `subject.identifier` is the peer's identifier (never an attribute of that name); an empty
///   identifier counts as missing. Any other `subject.NAME` is the credential's attribute NAME.
/// - A comparison with a missing attribute is false, whatever its operator: with no `role`,
///   `subject.role = "a"`, `subject.role != "a"` and `subject.role in ["a"]` are all false, and
///   `not subject.role = "a"` is true. `exists(subject.NAME)` tests presence.
/// - Strings compare byte for byte; `in` is true when the value equals one of the list's strings
///   (an empty list: never).
///
/// Limits: at most `max_text_size` bytes of text, `max_depth` levels of parentheses and `not`
/// together, `max_list_size` strings in a list. The canonical text (`text()`) of every policy is
/// within `max_text_size` too, so that it always parses back: a text near the limit that would
/// grow past it when written canonically (a space around each operator, after each comma) is
/// refused, and so are helpers' policies that would.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/failure.hpp"

namespace nodus::policy {

/// The longest policy text `parse_policy` accepts, in bytes.
inline constexpr std::size_t max_text_size = 4096;
/// The deepest nesting of parentheses and `not` that `parse_policy` accepts.
inline constexpr std::size_t max_depth = 32;
/// The most strings a list after `in` may hold.
inline constexpr std::size_t max_list_size = 64;

/// Who asks: the peer's identifier and its credential's attributes.
struct subject {
  std::string identifier;                         ///< the peer's identifier; empty when unknown
  std::map<std::string, std::string> attributes;  ///< the credential's attributes, by name
};

namespace detail {
struct expression;
}

/// A parsed policy expression: an immutable value, cheap to copy, safe to share between threads.
class policy {
public:
  /// The policy `false`: allows no one (a policy nobody has set refuses).
  policy();

  /// `true`: allows every subject.
  static policy everyone();
  /// `false`: allows no subject.
  static policy nobody();
  /// `subject.identifier in [ids...]`. Throws `nodus::error` with `errc::too_large` beyond
  /// `max_list_size` identifiers, or when its text would take more than `max_text_size` bytes.
  static policy identifiers(std::vector<std::string> ids);
  /// `subject.NAME = "value"`; `identifier` names the peer's identifier. Throws `nodus::error`:
  /// `errc::malformed` when `name` is not a NAME of the grammar, `errc::too_large` when the text
  /// would take more than `max_text_size` bytes (so that `text()` always reparses).
  static policy attribute_equals(std::string_view name, std::string value);

  /// Whether the expression is true for `s`.
  bool allows(const subject& s) const;
  /// The expression written canonically: one space between tokens, strings escaped, `and`/`or`
  /// chains flattened, parentheses only where the precedence needs them. `parse_policy(text())`
  /// gives a policy equal to this one.
  std::string text() const;

  /// The same expression (after flattening `and`/`or` chains): equal policies allow the same.
  friend bool operator==(const policy& a, const policy& b);

private:
  explicit policy(std::shared_ptr<const detail::expression> root);
  friend result_or_failure<policy> parse_policy(std::string_view text);

  std::shared_ptr<const detail::expression> root_;
};

/// Parses a policy text (the grammar at the top of this header). Total and bounded: any bytes in,
/// a policy or a failure out, never a throw, and recursion only `max_depth` deep. A failure has
/// `errc::malformed` (`errc::too_large` over a limit) and a reason of three lines: what and where
/// (`policy: expected a string after '=' at column 17`, columns in bytes from 1), then the text
/// (control characters as spaces, cut around the column when long) and a `^` under the column.
result_or_failure<policy> parse_policy(std::string_view text);

}  // namespace nodus::policy
