// The policy parser: recursive descent over the lexer's tokens, one token of look-ahead, bounded
// by max_depth (parentheses and `not`) and max_list_size. Each parse_* reads one element from the
// current token on; on failure it records why and returns false.
#include <optional>

#include <fmt/format.h>

#include "expression.hpp"
#include "lexer.hpp"
#include "parse_error.hpp"

namespace nodus::policy::detail {
namespace {

using kind = token::kind;

constexpr std::string_view attribute_prefix = "subject.";
constexpr std::string_view keywords[] = {"and", "or", "not", "in", "true", "false", "exists", "subject"};

std::string lower_case(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

class parser {
public:
  explicit parser(std::string_view text) : text_(text), lexer_(text) { advance(); }

  result_or_failure<expression> run() {
    if (current_.what == kind::end) {
      return outcome::failure(error_at(text_, 0, "the policy is empty ('true' allows everyone, 'false' no one)"));
    }
    expression out;
    if (!parse_or(out, 0)) return outcome::failure(std::move(failure_));
    if (current_.what != kind::end) {
      expected("'and', 'or' or the end");
      return outcome::failure(std::move(failure_));
    }
    return out;
  }

private:
  bool parse_or(expression& out, std::size_t depth) { return parse_chain(out, depth, "or", expression::kind::any_of); }

  bool parse_and(expression& out, std::size_t depth) {
    return parse_chain(out, depth, "and", expression::kind::all_of);
  }

  // operand (keyword operand)*: an `or` of `and`s, an `and` of `not`s.
  bool parse_chain(expression& out, std::size_t depth, std::string_view keyword, expression::kind what) {
    std::vector<expression> operands(1);
    if (!parse_operand(operands.back(), depth, what)) return false;
    while (is_word(keyword)) {
      advance();
      if (!parse_operand(operands.emplace_back(), depth, what)) return false;
    }
    out = operands.size() == 1 ? std::move(operands.front()) : combine(what, std::move(operands));
    return true;
  }

  bool parse_operand(expression& out, std::size_t depth, expression::kind chain) {
    return chain == expression::kind::any_of ? parse_and(out, depth) : parse_not(out, depth);
  }

  bool parse_not(expression& out, std::size_t depth) {
    if (!is_word("not")) return parse_primary(out, depth);
    if (!enter(depth)) return false;
    advance();
    out = expression{.what = expression::kind::negation, .operands = std::vector<expression>(1)};
    return parse_not(out.operands.front(), depth + 1);
  }

  bool parse_primary(expression& out, std::size_t depth) {
    if (current_.what == kind::open_paren) return parse_parenthesised(out, depth);
    if (current_.what != kind::word) return expected("subject.NAME, 'true', 'false', 'not', 'exists' or '('");
    if (is_word("true") || is_word("false")) {
      out = expression{.constant = is_word("true")};
      advance();
      return true;
    }
    if (is_word("exists")) return parse_exists(out);
    std::string attribute;
    if (!parse_attribute(attribute)) return false;
    return parse_comparison(out, std::move(attribute));
  }

  bool parse_parenthesised(expression& out, std::size_t depth) {
    if (!enter(depth)) return false;
    const auto open = current_.offset;
    advance();
    if (!parse_or(out, depth + 1)) return false;
    if (current_.what != kind::close_paren) {
      unclosed_at_ = open;
      return expected("'and', 'or' or ')'");
    }
    advance();
    return true;
  }

  bool parse_exists(expression& out) {
    advance();
    if (current_.what != kind::open_paren) return expected("'(' after 'exists'");
    advance();
    out = expression{.what = expression::kind::exists};
    if (!parse_attribute(out.attribute)) return false;
    if (current_.what != kind::close_paren) return expected("')' after exists(subject." + out.attribute);
    advance();
    return true;
  }

  // subject.NAME, the current token, into `name`.
  bool parse_attribute(std::string& name) {
    if (current_.what != kind::word) return expected("subject.NAME");
    const auto& word = current_.text;
    if (word == "subject") return error("'subject' alone (an attribute is written subject.NAME)", current_.offset);
    if (!word.starts_with(attribute_prefix)) return unknown_word();
    name = word.substr(attribute_prefix.size());
    if (name.empty()) return error("expected an attribute name after 'subject.'", current_.offset + word.size());
    if (!is_attribute_name(name)) {
      return error(fmt::format("'{}' is not an attribute name (segments of letters, digits, '_' and '-', "
                               "joined by '.')",
                               name),
                   current_.offset + attribute_prefix.size());
    }
    advance();
    return true;
  }

  bool parse_comparison(expression& out, std::string attribute) {
    const auto shown = "subject." + attribute;
    out = expression{.attribute = std::move(attribute)};
    if (is_word("in")) {
      out.what = expression::kind::one_of;
      advance();
      return parse_list(out.values);
    }
    if (current_.what != kind::equals && current_.what != kind::not_equals)
      return expected(fmt::format("'=', '!=' or 'in' after {}", shown));
    out.what = current_.what == kind::equals ? expression::kind::equals : expression::kind::not_equals;
    const auto op = describe(current_);
    advance();
    if (current_.what != kind::string) return expected("a string after " + op);
    out.values.push_back(std::move(current_.text));
    advance();
    return true;
  }

  bool parse_list(std::vector<std::string>& values) {
    if (current_.what != kind::open_bracket) return expected("'[' after 'in'");
    advance();
    if (current_.what == kind::close_bracket) {
      advance();
      return true;
    }
    for (;;) {
      if (current_.what != kind::string) return expected(values.empty() ? "a string or ']'" : "a string after ','");
      if (values.size() == max_list_size)
        return error(fmt::format("a list holds at most {} strings", max_list_size), current_.offset, errc::too_large);
      values.push_back(std::move(current_.text));
      advance();
      if (current_.what == kind::close_bracket) break;
      if (current_.what != kind::comma) return expected("',' or ']' in a list");
      advance();
    }
    advance();
    return true;
  }

  // A word where subject.NAME belongs: a keyword out of place, a keyword in capitals, or a name
  // without `subject.`.
  bool unknown_word() {
    if (is_keyword(current_.text)) return expected("subject.NAME");
    const auto hint = is_keyword(lower_case(current_.text)) || lower_case(current_.text).starts_with("subject.")
                          ? "keywords are lower case"
                          : "attributes are written subject.NAME";
    return error(fmt::format("unknown name {} ({})", describe(current_), hint), current_.offset);
  }

  static bool is_keyword(std::string_view word) {
    for (const auto keyword : keywords)
      if (word == keyword) return true;
    return false;
  }

  bool enter(std::size_t depth) {
    if (depth < max_depth) return true;
    return error(fmt::format("nested deeper than {} (parentheses and 'not')", max_depth), current_.offset,
                 errc::too_large);
  }

  bool is_word(std::string_view word) const { return current_.what == kind::word && current_.text == word; }

  // "expected WHAT at column N, found X"; an invalid token reports its own error instead.
  bool expected(std::string_view what) {
    if (current_.what == kind::invalid) return error(current_.text, current_.offset);
    auto found = "found " + describe(current_);
    if (current_.what == kind::word && current_.text != lower_case(current_.text) &&
        is_keyword(lower_case(current_.text)))
      found += " (keywords are lower case)";
    const auto prefix = unclosed_at_ ? fmt::format("unclosed '(' from column {}: ", *unclosed_at_ + 1) : "";
    failure_ = error_at(text_, current_.offset, prefix + "expected " + std::string(what), errc::malformed, found);
    return false;
  }

  bool error(std::string_view what, std::size_t offset, errc code = errc::malformed) {
    failure_ = error_at(text_, offset, what, code);
    return false;
  }

  void advance() { current_ = lexer_.next(); }

  std::string_view text_;
  lexer lexer_;
  token current_;
  failure failure_;
  std::optional<std::size_t> unclosed_at_;  // set by a '(' without its ')', for the error message
};

}  // namespace

result_or_failure<expression> parse_expression(std::string_view text) {
  if (text.size() > max_text_size) {
    return outcome::failure(failure{
        errc::too_large, fmt::format("policy: the text is {} bytes, more than {}", text.size(), max_text_size)});
  }
  return parser(text).run();
}

}  // namespace nodus::policy::detail
