// Evaluation and canonical text of a policy's tree.
#include "expression.hpp"

#include <algorithm>
#include <optional>

namespace nodus::policy::detail {
namespace {

using kind = expression::kind;

// The value of subject.NAME, or nothing when the subject has none.
std::optional<std::string_view> lookup(const subject& s, const std::string& name) {
  if (name == identifier_name) {
    if (s.identifier.empty()) return std::nullopt;
    return std::string_view(s.identifier);
  }
  const auto found = s.attributes.find(name);
  if (found == s.attributes.end()) return std::nullopt;
  return std::string_view(found->second);
}

// A comparison with a missing attribute is false whatever its operator (the header says why).
bool compare(const expression& e, const subject& s) {
  const auto value = lookup(s, e.attribute);
  if (!value) return false;
  switch (e.what) {
    case kind::equals: return *value == e.values.front();
    case kind::not_equals: return *value != e.values.front();
    default: return std::find(e.values.begin(), e.values.end(), *value) != e.values.end();
  }
}

// How tightly a node binds when written: an operand binding looser than its parent needs
// parentheses.
int binding(kind what) {
  switch (what) {
    case kind::any_of: return 1;
    case kind::all_of: return 2;
    case kind::negation: return 3;
    default: return 4;
  }
}

std::string write_operand(const expression& operand, kind parent) {
  const auto text = write(operand);
  return binding(operand.what) < binding(parent) ? "(" + text + ")" : text;
}

std::string write_list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + quote(values[i]);
  return out + "]";
}

}  // namespace

expression combine(kind what, std::vector<expression> operands) {
  expression out{.what = what};
  for (auto& operand : operands) {
    if (operand.what == what) {
      for (auto& inner : operand.operands) out.operands.push_back(std::move(inner));
    } else {
      out.operands.push_back(std::move(operand));
    }
  }
  return out;
}

bool evaluate(const expression& e, const subject& s) {
  const auto holds = [&s](const expression& operand) { return evaluate(operand, s); };
  switch (e.what) {
    case kind::constant: return e.constant;
    case kind::any_of: return std::any_of(e.operands.begin(), e.operands.end(), holds);
    case kind::all_of: return std::all_of(e.operands.begin(), e.operands.end(), holds);
    case kind::negation: return !evaluate(e.operands.front(), s);
    case kind::exists: return lookup(s, e.attribute).has_value();
    default: return compare(e, s);
  }
}

std::string write(const expression& e) {
  const auto attribute = "subject." + e.attribute;
  switch (e.what) {
    case kind::constant: return e.constant ? "true" : "false";
    case kind::negation: return "not " + write_operand(e.operands.front(), e.what);
    case kind::exists: return "exists(" + attribute + ")";
    case kind::equals: return attribute + " = " + quote(e.values.front());
    case kind::not_equals: return attribute + " != " + quote(e.values.front());
    case kind::one_of: return attribute + " in " + write_list(e.values);
    default: break;
  }
  const auto separator = e.what == kind::all_of ? " and " : " or ";
  std::string out;
  for (std::size_t i = 0; i < e.operands.size(); ++i)
    out += (i ? separator : "") + write_operand(e.operands[i], e.what);
  return out;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_attribute_name(std::string_view name) {
  const auto segment_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  bool segment_empty = true;
  for (const char c : name) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if (segment_char(c)) {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

}  // namespace nodus::policy::detail
