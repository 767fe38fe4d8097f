// The JSON parser: RFC 8259 strictly, recursive descent bounded by parse_limits::max_depth.
#include "nodus/core/json.hpp"

#include <charconv>
#include <new>
#include <set>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "json_utf8.hpp"

namespace nodus::json {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A number from_chars finds out of range: true when it is too close to zero for a double (it
// rounds to ±0), false when it is too large. `n` follows the JSON grammar. The decimal exponent
// of its leading digit decides, with the exponent saturated so that no digit count overflows.
bool rounds_to_zero(std::string_view n) {
  std::size_t i = n[0] == '-' ? 1 : 0;
  const std::size_t int_start = i;
  while (i < n.size() && is_digit(n[i])) ++i;
  long long lead = static_cast<long long>(i - int_start) - 1;
  if (n[int_start] == '0' && i < n.size() && n[i] == '.') {
    ++i;
    lead = -1;
    while (i < n.size() && n[i] == '0' && lead > -1'000'000'000) ++i, --lead;
  }
  while (i < n.size() && n[i] != 'e' && n[i] != 'E') ++i;
  long long exponent = 0;
  if (i < n.size()) {
    ++i;
    const bool negative = n[i] == '-';
    if (n[i] == '-' || n[i] == '+') ++i;
    for (; i < n.size() && exponent < 1'000'000'000; ++i) exponent = exponent * 10 + (n[i] - '0');
    if (negative) exponent = -exponent;
  }
  return lead + exponent < 0;
}

// The member indices of an object being parsed, ordered by key, to find a duplicate key in
// O(log n) (a hash set could be flooded with colliding keys). Small objects are searched.
class key_index {
public:
  explicit key_index(const object& members) : members_(members), sorted_(by_key{&members}) {}

  // False when the last member's key is also an earlier member's.
  bool insert_last() {
    const auto last = members_.size() - 1;
    if (last < search_limit) {
      for (std::size_t i = 0; i < last; ++i)
        if (members_[i].first == members_[last].first) return false;
      return true;
    }
    if (sorted_.empty())
      for (std::size_t i = 0; i < last; ++i) sorted_.insert(i);
    return sorted_.insert(last).second;
  }

private:
  static constexpr std::size_t search_limit = 16;
  struct by_key {
    const object* members;
    bool operator()(std::size_t a, std::size_t b) const { return (*members)[a].first < (*members)[b].first; }
  };
  const object& members_;
  std::set<std::size_t, by_key> sorted_;
};

// Each parse_* reads one element from at_ on; on failure it records why and returns false.
class parser {
public:
  parser(std::string_view text, const parse_limits& limits) : text_(text), limits_(limits) {}

  result_or_failure<value> run() {
    value out;
    skip_space();
    if (!parse_value(out, 0)) return outcome::failure(std::move(failure_));
    skip_space();
    if (at_ != text_.size()) return fail(errc::malformed, where("unexpected text after the value", at_));
    return out;
  }

private:
  bool parse_value(value& out, std::size_t depth) {
    if (at_ == text_.size()) return expected("a value");
    switch (text_[at_]) {
      case '[': return parse_array(out, depth);
      case '{': return parse_object(out, depth);
      case '"': {
        std::string s;
        if (!parse_string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't': return parse_literal("true", true, out);
      case 'f': return parse_literal("false", false, out);
      case 'n': return parse_literal("null", nullptr, out);
      default:
        if (text_[at_] == '-' || is_digit(text_[at_])) return parse_number(out);
        return expected("a value");
    }
  }

  bool parse_literal(std::string_view word, value v, value& out) {
    if (text_.substr(at_, word.size()) != word) return expected(fmt::format("'{}'", word));
    at_ += word.size();
    out = std::move(v);
    return true;
  }

  bool enter(std::size_t depth) {
    if (depth < limits_.max_depth) return true;
    return error(fmt::format("arrays and objects nested deeper than {}", limits_.max_depth), at_, errc::too_large);
  }

  bool parse_array(value& out, std::size_t depth) {
    if (!enter(depth)) return false;
    ++at_;
    array items;
    skip_space();
    if (!consume(']')) {
      do {
        skip_space();
        if (!parse_value(items.emplace_back(), depth + 1)) return false;
        skip_space();
      } while (consume(','));
      if (!consume(']')) return expected("',' or ']' after an array element");
    }
    out = std::move(items);
    return true;
  }

  bool parse_object(value& out, std::size_t depth) {
    if (!enter(depth)) return false;
    ++at_;
    object members;
    key_index keys(members);
    skip_space();
    if (!consume('}')) {
      do {
        skip_space();
        if (!parse_member(members, keys, depth)) return false;
        skip_space();
      } while (consume(','));
      if (!consume('}')) return expected("',' or '}' after an object member");
    }
    out = std::move(members);
    return true;
  }

  bool parse_member(object& members, key_index& keys, std::size_t depth) {
    const auto key_at = at_;
    std::string key;
    if (at_ == text_.size() || text_[at_] != '"') return expected("a string key in an object");
    if (!parse_string(key)) return false;
    skip_space();
    if (!consume(':')) return expected("':' after an object key");
    skip_space();
    // Piecewise: moving a fresh null value into the pair makes g++ 12 warn -Wmaybe-uninitialized.
    auto& member =
        members.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::move(key)), std::forward_as_tuple());
    if (!keys.insert_last()) {
      const auto shown = dump(std::string_view(member.first).substr(0, 64));
      return error(fmt::format("duplicate key {} in an object", shown), key_at);
    }
    return parse_value(member.second, depth + 1);
  }

  bool parse_string(std::string& out) {
    const auto start = at_++;
    for (;;) {
      const auto run = at_;
      while (at_ < text_.size() && plain(static_cast<unsigned char>(text_[at_]))) ++at_;
      out.append(text_.substr(run, at_ - run));
      if (at_ == text_.size()) return error("unterminated string", start);
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c == '\\') {
        if (at_ + 1 == text_.size()) return error("unterminated string", start);
        if (!parse_escape(out)) return false;
      } else if (c < 0x20) {
        return error(fmt::format("control character 0x{:02x} in a string (it must be escaped)", c), at_);
      } else {
        const auto seq = detail::scan_utf8(text_.substr(at_));
        if (!seq.valid) return error("invalid UTF-8 in a string", at_);
        out.append(text_.substr(at_, seq.length));
        at_ += seq.length;
      }
    }
  }

  // Printable ASCII other than '"' and '\\', copied as it is.
  static bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

  bool parse_escape(std::string& out) {
    const char e = text_[at_ + 1];
    static constexpr std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
    if (const auto k = from.find(e); k != std::string_view::npos) {
      out += to[k];
      at_ += 2;
      return true;
    }
    if (e == 'u') return parse_unicode_escape(out);
    const auto c = static_cast<unsigned char>(e);
    if (c > 0x20 && c < 0x7f) return error(fmt::format("invalid escape '\\{}' in a string", e), at_);
    return error(fmt::format("invalid escape ('\\' then byte 0x{:02x}) in a string", c), at_);
  }

  // \uXXXX, or a surrogate pair \uD8xx\uDCxx, at at_.
  bool parse_unicode_escape(std::string& out) {
    const auto start = at_;
    auto unit = hex4(at_ + 2);
    if (unit < 0) return error("\\u escape without 4 hex digits", start);
    at_ += 6;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const auto low = text_.substr(at_, 2) == "\\u" ? hex4(at_ + 2) : -1;
      if (low < 0xdc00 || low > 0xdfff) return error(fmt::format("lone surrogate \\u{:04X} in a string", unit), start);
      unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
      at_ += 6;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return error(fmt::format("lone surrogate \\u{:04X} in a string", unit), start);
    }
    detail::append_utf8(out, static_cast<std::uint32_t>(unit));
    return true;
  }

  // The 4 hex digits at `from` as a number, or -1.
  long hex4(std::size_t from) const {
    if (from + 4 > text_.size()) return -1;
    long v = 0;
    for (std::size_t i = from; i < from + 4; ++i) {
      const int d = hex_digit(text_[i]);
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  bool parse_number(value& out) {
    const auto start = at_;
    bool integral = true;
    consume('-');
    if (at_ == text_.size() || !is_digit(text_[at_])) return expected("a digit in a number");
    if (consume('0')) {
      if (at_ < text_.size() && is_digit(text_[at_])) return error("leading zero in a number", start);
    } else {
      skip_digits();
    }
    if (consume('.')) {
      integral = false;
      if (!skip_digits()) return expected("a digit after '.' in a number");
    }
    if (consume('e') || consume('E')) {
      integral = false;
      if (!consume('+')) consume('-');
      if (!skip_digits()) return expected("a digit in a number's exponent");
    }
    return convert_number(text_.substr(start, at_ - start), integral, start, out);
  }

  bool convert_number(std::string_view n, bool integral, std::size_t start, value& out) {
    const auto* end = n.data() + n.size();
    if (integral) {
      std::int64_t i = 0;
      const auto [ptr, ec] = std::from_chars(n.data(), end, i);
      if (ec == std::errc{} && ptr == end) {
        out = i;
        return true;
      }
    }
    double d = 0;
    const auto [ptr, ec] = std::from_chars(n.data(), end, d);
    if (ec == std::errc::result_out_of_range && rounds_to_zero(n)) {
      d = n[0] == '-' ? -0.0 : 0.0;
    } else if (ec != std::errc{} || ptr != end) {
      return error("number out of range", start);
    }
    out = d;
    return true;
  }

  // Skips digits; false when there were none.
  bool skip_digits() {
    const auto from = at_;
    while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
    return at_ > from;
  }

  void skip_space() {
    while (at_ < text_.size() && is_space(text_[at_])) ++at_;
  }

  bool consume(char c) {
    if (at_ == text_.size() || text_[at_] != c) return false;
    ++at_;
    return true;
  }

  std::string where(std::string_view what, std::size_t offset) const {
    return fmt::format("JSON: {} at offset {}", what, offset);
  }

  bool error(std::string_view what, std::size_t offset, errc code = errc::malformed) {
    failure_ = failure{code, where(what, offset)};
    return false;
  }

  bool expected(std::string_view what) {
    auto reason = where(fmt::format("expected {}", what), at_);
    if (at_ == text_.size()) reason += " (the end of the text)";
    failure_ = failure{errc::malformed, std::move(reason)};
    return false;
  }

  std::string_view text_;
  parse_limits limits_;
  std::size_t at_ = 0;
  failure failure_;
};

}  // namespace

result_or_failure<value> parse(std::string_view text, parse_limits limits) {
  if (text.size() > limits.max_size)
    return fail(errc::too_large,
                fmt::format("JSON: text of {} bytes is over the limit of {} bytes", text.size(), limits.max_size));
  try {
    return parser(text, limits).run();
  } catch (const std::bad_alloc&) {
    return fail(errc::too_large, "JSON: out of memory while parsing");
  } catch (const std::length_error&) {
    return fail(errc::too_large, "JSON: out of memory while parsing");
  }
}

}  // namespace nodus::json
