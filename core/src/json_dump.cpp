// The JSON writer: always valid JSON, whatever the strings hold.
#include "nodus/core/json.hpp"

#include <charconv>
#include <cmath>

#include "json_utf8.hpp"

namespace nodus::json {
namespace {

// Appends the JSON text of values to `out`; recursion follows the value's nesting.
class writer {
public:
  explicit writer(bool pretty) : pretty_(pretty) {}

  void write(const value& v, std::size_t depth) {
    switch (v.kind()) {
      case kind::null: out_ += "null"; return;
      case kind::boolean: out_ += *v.as_bool() ? "true" : "false"; return;
      case kind::integer: write_integer(*v.as_int()); return;
      case kind::floating: write_double(*v.as_double()); return;
      case kind::string: write_string(*v.as_string()); return;
      case kind::array: write_array(*v.as_array(), depth); return;
      case kind::object: write_object(*v.as_object(), depth); return;
    }
  }

  std::string take() { return std::move(out_); }

private:
  void write_integer(std::int64_t i) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, i).ptr;
    out_.append(buf, end);
  }

  // The shortest text that reads back as the same double; ".0" when that would read back as
  // an integer ("1", "-0", "123456789012345683968").
  void write_double(double d) {
    if (!std::isfinite(d)) {
      out_ += "null";
      return;
    }
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, d).ptr;
    const std::string_view text(buf, static_cast<std::size_t>(end - buf));
    out_ += text;
    if (text.find_first_of(".e") == std::string_view::npos) out_ += ".0";
  }

  void write_string(std::string_view s) {
    out_ += '"';
    std::size_t i = 0;
    while (i < s.size()) {
      // Bytes that need nothing done, in one append.
      std::size_t run = i;
      while (run < s.size() && plain(static_cast<unsigned char>(s[run]))) ++run;
      out_.append(s.substr(i, run - i));
      i = run;
      if (i < s.size()) i += write_special(s.substr(i));
    }
    out_ += '"';
  }

  static bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

  // Writes the escape or UTF-8 sequence at the front of `s`; returns the bytes it consumed.
  std::size_t write_special(std::string_view s) {
    const auto c = static_cast<unsigned char>(s[0]);
    if (c >= 0x80) {
      const auto seq = detail::scan_utf8(s);
      if (seq.valid)
        out_.append(s.substr(0, seq.length));
      else
        out_ += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
      return seq.length;
    }
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\b': out_ += "\\b"; break;
      case '\f': out_ += "\\f"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        const char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        out_.append(escape, sizeof escape);
      }
    }
    return 1;
  }

  void write_array(const array& items, std::size_t depth) {
    out_ += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += ',';
      new_line(depth + 1);
      write(items[i], depth + 1);
    }
    if (!items.empty()) new_line(depth);
    out_ += ']';
  }

  void write_object(const object& members, std::size_t depth) {
    out_ += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out_ += ',';
      new_line(depth + 1);
      write_string(members[i].first);
      out_ += pretty_ ? ": " : ":";
      write(members[i].second, depth + 1);
    }
    if (!members.empty()) new_line(depth);
    out_ += '}';
  }

  void new_line(std::size_t depth) {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(2 * depth, ' ');
  }

  bool pretty_;
  std::string out_;
};

}  // namespace

std::string dump(const value& v, bool pretty) {
  writer w(pretty);
  w.write(v, 0);
  return w.take();
}

}  // namespace nodus::json
