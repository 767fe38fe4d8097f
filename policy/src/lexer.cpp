// The policy tokenizer. Words run over the characters of keywords and attribute names (letters,
// digits, '_', '-', '.'), so `subjct.role` is read as one word and refused by the parser as a
// whole. A few spellings from other languages get an error that names the right one.
#include "lexer.hpp"

#include <fmt/format.h>

namespace nodus::policy::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

std::string shown_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 || byte >= 0x7f) return fmt::format("byte 0x{:02x}", byte);
  return fmt::format("character '{}'", c);
}

}  // namespace

std::string describe(const token& t) {
  using kind = token::kind;
  switch (t.what) {
    case kind::word: return fmt::format("'{}'", t.text.size() <= 40 ? t.text : t.text.substr(0, 40) + "...");
    case kind::string: return "a string";
    case kind::open_paren: return "'('";
    case kind::close_paren: return "')'";
    case kind::open_bracket: return "'['";
    case kind::close_bracket: return "']'";
    case kind::comma: return "','";
    case kind::equals: return "'='";
    case kind::not_equals: return "'!='";
    case kind::end: return "the end";
    default: return "an invalid token";
  }
}

token lexer::next() {
  skip_space();
  if (at_ == text_.size()) return {.what = token::kind::end, .offset = at_};
  const char c = text_[at_];
  if (c == '"') return read_string();
  if (is_word_char(c)) return read_word();
  return read_operator();
}

void lexer::skip_space() {
  while (at_ < text_.size() && is_space(text_[at_])) ++at_;
}

token lexer::read_word() {
  const auto start = at_;
  while (at_ < text_.size() && is_word_char(text_[at_])) ++at_;
  return {.what = token::kind::word, .text = std::string(text_.substr(start, at_ - start)), .offset = start};
}

token lexer::read_string() {
  const auto start = at_++;
  std::string value;
  while (at_ < text_.size()) {
    const char c = text_[at_++];
    if (c == '"') return {.what = token::kind::string, .text = std::move(value), .offset = start};
    if (c != '\\') {
      value += c;
      continue;
    }
    if (at_ == text_.size()) break;
    const char escaped = text_[at_];
    if (escaped != '"' && escaped != '\\') {
      return {.what = token::kind::invalid,
              .text = fmt::format("unknown escape '\\' then {} in a string (the escapes are \\\" and \\\\)",
                                  shown_char(escaped)),
              .offset = at_ - 1};
    }
    value += escaped;
    ++at_;
  }
  return {.what = token::kind::invalid, .text = "unterminated string (no closing '\"')", .offset = start};
}

token lexer::read_operator() {
  using kind = token::kind;
  const auto start = at_;
  const auto rest = text_.substr(at_);
  const auto single = [&](kind what) {
    ++at_;
    return token{.what = what, .offset = start};
  };
  const auto invalid = [&](std::string why) {
    return token{.what = kind::invalid, .text = std::move(why), .offset = start};
  };
  if (rest.starts_with("!=")) {
    at_ += 2;
    return {.what = kind::not_equals, .offset = start};
  }
  if (rest.starts_with("==")) return invalid("'==': equality is written '='");
  if (rest.starts_with("&&")) return invalid("'&&': write 'and'");
  if (rest.starts_with("||")) return invalid("'||': write 'or'");
  switch (rest.front()) {
    case '(': return single(kind::open_paren);
    case ')': return single(kind::close_paren);
    case '[': return single(kind::open_bracket);
    case ']': return single(kind::close_bracket);
    case ',': return single(kind::comma);
    case '=': return single(kind::equals);
    case '!': return invalid("'!': write 'not', or '!=' for inequality");
    case '\'': return invalid("a single quote: strings are written in double quotes");
    default: return invalid("unexpected " + shown_char(rest.front()));
  }
}

}  // namespace nodus::policy::detail
