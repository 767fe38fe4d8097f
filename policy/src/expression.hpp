#pragma once
// The tree a policy text parses to, its evaluation and its canonical text.

#include <string>
#include <vector>

#include "nodus/policy/policy.hpp"

namespace nodus::policy::detail {

/// One node of a policy's tree. `and`/`or` nodes hold two or more operands and never an operand
/// of their own kind (chains are flattened), so equal meanings written alike are equal trees.
struct expression {
  enum class kind { constant, any_of, all_of, negation, exists, equals, not_equals, one_of };

  kind what = kind::constant;
  bool constant = false;             ///< kind::constant
  std::string attribute;             ///< exists and the comparisons: NAME of subject.NAME
  std::vector<std::string> values;   ///< equals/not_equals: one; one_of: the list
  std::vector<expression> operands;  ///< any_of/all_of: two or more; negation: one

  friend bool operator==(const expression&, const expression&) = default;
};

/// The name that means the peer's identifier rather than an attribute.
inline constexpr std::string_view identifier_name = "identifier";

/// `a and b` or `a or b` (kind all_of or any_of), with operands of the same kind spliced in.
expression combine(expression::kind what, std::vector<expression> operands);

/// Parses a policy text (nodus::policy::parse_policy, which wraps the tree in a policy).
result_or_failure<expression> parse_expression(std::string_view text);

/// Whether `e` is true for `s`.
bool evaluate(const expression& e, const subject& s);

/// `e` written canonically (policy::text()).
std::string write(const expression& e);

/// `s` as a string literal: quoted, with '"' and '\' escaped.
std::string quote(std::string_view s);

/// Whether `name` is a NAME of the grammar (segments of A-Z a-z 0-9 _ - joined by '.').
bool is_attribute_name(std::string_view name);

}  // namespace nodus::policy::detail
