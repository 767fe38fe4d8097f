#include "schema.hpp"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "nodus/core/json.hpp"

namespace nodus::kafka::codegen {
namespace {

// The schema files are JSON with `//` line comments (outside strings).
std::string strip_comments(const std::string& text) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size())
        out += text[++i];
      else if (c == '"')
        in_string = false;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
      out += '\n';
    } else {
      in_string = c == '"';
      out += c;
    }
  }
  return out;
}

// One file (DescribeTopicPartitionsRequest.json) repeats a key in an object, which Kafka's
// parser (Jackson) accepts and nodus::json refuses: a repeated key is renamed "<key>#2", so the
// first one counts (both have the same value there).
std::string rename_repeated_keys(const std::string& text) {
  std::string out;
  std::vector<std::optional<std::set<std::string>>> scopes;  // an object's keys, or nothing for an array
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{') scopes.emplace_back(std::set<std::string>{});
    if (c == '[') scopes.emplace_back(std::nullopt);
    if ((c == '}' || c == ']') && !scopes.empty()) scopes.pop_back();
    if (c != '"') {
      out += c;
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
    const auto literal = text.substr(i, end + 1 - i);
    auto next = text.find_first_not_of(" \t\r\n", end + 1);
    const bool key = next != std::string::npos && text[next] == ':' && !scopes.empty() && scopes.back();
    if (key && !scopes.back()->insert(literal).second)
      out += literal.substr(0, literal.size() - 1) + "#2\"";
    else
      out += literal;
    i = end;
  }
  return out;
}

result_or_failure<versions> parse_versions(const std::string& text, const std::string& where) {
  versions v;
  if (text == "none") return v;
  try {
    const auto dash = text.find('-');
    if (!text.empty() && text.back() == '+') {
      v.lo = std::stoi(text.substr(0, text.size() - 1));
      v.hi = versions::highest_version;
    } else if (dash != std::string::npos) {
      v.lo = std::stoi(text.substr(0, dash));
      v.hi = std::stoi(text.substr(dash + 1));
    } else {
      v.lo = v.hi = std::stoi(text);
    }
  } catch (const std::exception&) {
    return fail(errc::malformed, where + ": bad version range '" + text + "'");
  }
  return v;
}

std::string text_of(const json::value& object, const char* key) {
  const auto* v = object.find(key);
  if (!v) return {};
  if (const auto* s = v->as_string()) return *s;
  if (auto b = v->as_bool()) return *b ? "true" : "false";
  if (auto i = v->as_int()) return std::to_string(*i);
  return {};
}

result_or_failure<field> parse_field(const json::value& v, const std::string& where);

result_or_failure<std::vector<field>> parse_fields(const json::value* list, const std::string& where) {
  std::vector<field> out;
  if (!list) return out;
  const auto* array = list->as_array();
  if (!array) return fail(errc::malformed, where + ": fields is not an array");
  for (const auto& f : *array) {
    auto parsed = parse_field(f, where);
    if (!parsed) return parsed.error();
    out.push_back(std::move(parsed).value());
  }
  return out;
}

result_or_failure<field> parse_field(const json::value& v, const std::string& where) {
  field f;
  f.name = text_of(v, "name");
  f.type = text_of(v, "type");
  f.about = text_of(v, "about");
  const auto here = where + "." + f.name;
  if (f.name.empty() || f.type.empty()) return fail(errc::malformed, here + ": a field needs a name and a type");
  auto present = parse_versions(text_of(v, "versions"), here);
  if (!present) return present.error();
  f.present = present.value();
  if (v.find("nullableVersions")) {
    auto n = parse_versions(text_of(v, "nullableVersions"), here);
    if (!n) return n.error();
    f.nullable = n.value();
  }
  if (v.find("flexibleVersions")) {
    auto n = parse_versions(text_of(v, "flexibleVersions"), here);
    if (!n) return n.error();
    f.flexible = n.value();
  }
  if (v.find("tag")) {
    // A number, or (in one file) a number in a string.
    const auto text = text_of(v, "tag");
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 9)
      return fail(errc::malformed, here + ": bad tag");
    f.tag = static_cast<std::uint32_t>(std::stoul(text));
    auto n = parse_versions(text_of(v, "taggedVersions"), here);
    if (!n) return n.error();
    f.tagged = n.value();
  }
  if (v.find("default")) f.default_value = text_of(v, "default");
  auto nested = parse_fields(v.find("fields"), here);
  if (!nested) return nested.error();
  f.fields = std::move(nested).value();
  return f;
}

}  // namespace

std::string versions::condition() const {
  if (none()) return "false";
  if (lo == 0 && open_ended()) return "true";
  if (open_ended()) return "ver >= " + std::to_string(lo);
  if (lo == hi) return "ver == " + std::to_string(lo);
  if (lo == 0) return "ver <= " + std::to_string(hi);
  return "(ver >= " + std::to_string(lo) + " && ver <= " + std::to_string(hi) + ")";
}

result_or_failure<message> load_message(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(errc::malformed, path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto doc = json::parse(rename_repeated_keys(strip_comments(text.str())));
  if (!doc) return fail(errc::malformed, path + ": " + doc.error().message());
  const auto& v = doc.value();
  message m;
  m.file = path.substr(path.find_last_of('/') + 1);
  m.name = text_of(v, "name");
  m.type = text_of(v, "type");
  if (const auto* key = v.find("apiKey")) m.api_key = static_cast<int>(key->as_int().value_or(-1));
  auto valid = parse_versions(text_of(v, "validVersions"), m.file);
  if (!valid) return valid.error();
  m.valid = valid.value();
  auto flexible = parse_versions(text_of(v, "flexibleVersions"), m.file);
  if (!flexible) return flexible.error();
  m.flexible = flexible.value();
  auto fields = parse_fields(v.find("fields"), m.name);
  if (!fields) return fields.error();
  m.fields = std::move(fields).value();
  if (const auto* common = v.find("commonStructs"); common && common->as_array()) {
    for (const auto& s : *common->as_array()) {
      auto structs = parse_fields(s.find("fields"), m.name + "." + text_of(s, "name"));
      if (!structs) return structs.error();
      m.common_structs.push_back({text_of(s, "name"), std::move(structs).value()});
    }
  }
  return m;
}

std::string snake_case(const std::string& name) {
  static const std::set<std::string> keywords = {
      "auto",    "bool",     "break",   "case",      "char",     "class",    "const",  "default",  "delete",
      "do",      "double",   "else",    "enum",      "explicit", "export",   "extern", "false",    "float",
      "for",     "friend",   "goto",    "if",        "inline",   "int",      "long",   "mutable",  "namespace",
      "new",     "operator", "private", "protected", "public",   "register", "return", "short",    "signed",
      "sizeof",  "static",   "struct",  "switch",    "template", "this",     "throw",  "true",     "try",
      "typedef", "typename", "union",   "unsigned",  "using",    "virtual",  "void",   "volatile", "while"};
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool upper = std::isupper(static_cast<unsigned char>(c));
    if (upper && i > 0) {
      const char prev = name[i - 1];
      const bool next_lower = i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
      if (std::islower(static_cast<unsigned char>(prev)) || std::isdigit(static_cast<unsigned char>(prev)) ||
          (std::isupper(static_cast<unsigned char>(prev)) && next_lower))
        out += '_';
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (keywords.count(out)) out += '_';
  return out;
}

}  // namespace nodus::kafka::codegen
