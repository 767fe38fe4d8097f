// One message as one C++ struct: its nested structs, members with their defaults, and the
// visit_fields that the decoder, encoder and JSON builder share.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "emit.hpp"

namespace nodus::kafka::codegen {
namespace {

const std::map<std::string, std::string> primitive_types = {
    {"bool", "bool"},          {"int8", "std::int8_t"},     {"int16", "std::int16_t"},   {"uint16", "std::uint16_t"},
    {"int32", "std::int32_t"}, {"uint32", "std::uint32_t"}, {"int64", "std::int64_t"},   {"float64", "double"},
    {"string", "std::string"}, {"bytes", "nodus::bytes"},   {"records", "nodus::bytes"}, {"uuid", "uuid"}};

bool is_array(const std::string& type) { return type.rfind("[]", 0) == 0; }
std::string element_type(const std::string& type) { return is_array(type) ? type.substr(2) : type; }
bool is_struct_type(const std::string& type) { return !primitive_types.count(element_type(type)); }

// The structs of one message, in an order where each comes after the structs it holds.
class message_model {
public:
  static result_or_failure<message_model> make(const message& m) {
    message_model model(m);
    for (const auto& s : m.common_structs) {
      model.collect(s.fields);
      model.structs_[s.name] = s.fields;
    }
    model.collect(m.fields);
    for (const auto& [name, fields] : model.structs_) {
      (void)fields;
      if (auto r = model.order(name, 0); !r) return r.error();
    }
    return model;
  }

  const message& msg() const { return m_; }
  std::string cpp_name() const { return snake_case(m_.name); }
  // A nested struct's name; `_type` is added where a field of the message has the same name.
  std::string struct_name(const std::string& type) const {
    auto n = snake_case(type);
    if (field_names_.count(n) || n == cpp_name()) n += "_type";
    return n;
  }
  const std::vector<std::string>& ordered() const { return ordered_; }
  const std::vector<field>& fields_of(const std::string& type) const { return structs_.at(type); }

private:
  explicit message_model(const message& m) : m_(m) {}

  void collect(const std::vector<field>& fields) {
    for (const auto& f : fields) {
      field_names_.insert(snake_case(f.name));
      if (!f.fields.empty()) {
        structs_[element_type(f.type)] = f.fields;
        collect(f.fields);
      }
    }
  }

  result<> order(const std::string& name, int depth) {
    if (std::find(ordered_.begin(), ordered_.end(), name) != ordered_.end()) return ok();
    if (depth > 32 || !structs_.count(name)) return errc::malformed;
    for (const auto& f : structs_.at(name))
      if (is_struct_type(f.type))
        if (auto r = order(element_type(f.type), depth + 1); !r) return r;
    ordered_.push_back(name);
    return ok();
  }

  const message& m_;
  std::map<std::string, std::vector<field>> structs_;
  std::set<std::string> field_names_;
  std::vector<std::string> ordered_;
};

std::string member_type(const message_model& model, const field& f) {
  const auto element = element_type(f.type);
  std::string t =
      is_struct_type(f.type) ? model.cpp_name() + "::" + model.struct_name(element) : primitive_types.at(element);
  if (is_array(f.type)) t = "std::vector<" + t + ">";
  if (f.type == "records" || (!f.nullable.none() && f.type != "bool" &&
                              (is_array(f.type) || is_struct_type(f.type) || f.type == "string" || f.type == "bytes")))
    t = "std::optional<" + t + ">";
  if (f.tag) t = "std::optional<" + t + ">";
  return t;
}

std::string integer_default(const field& f) {
  const auto text = f.default_value.value_or("0");
  long long v = 0;
  try {
    v = std::stoll(text, nullptr, 0);
  } catch (const std::exception&) {
    return "0";
  }
  if (f.type == "int32" && v == -2147483648LL) return "-2147483647 - 1";
  return std::to_string(v);
}

// The member's initializer, Kafka's defaults: 0, false, "", empty arrays; "null" where given.
std::string member_default(const message_model& model, const field& f) {
  if (f.tag || f.type == "records" || f.type == "uuid" || (is_struct_type(f.type) && !is_array(f.type))) return "{}";
  const bool optional = member_type(model, f).rfind("std::optional", 0) == 0;
  const bool null = f.default_value && *f.default_value == "null";
  if (is_array(f.type) || f.type == "bytes") {
    if (!optional || null) return "{}";
    const auto inner = member_type(model, f);
    return " = " + inner.substr(14, inner.size() - 15) + "{}";
  }
  if (f.type == "string") {
    if (null) return "{}";
    const auto text = f.default_value.value_or("");
    if (optional) return text.empty() ? " = std::string()" : " = std::string(\"" + text + "\")";
    return text.empty() ? "{}" : " = \"" + text + "\"";
  }
  if (f.type == "bool") {
    auto text = f.default_value.value_or("false");
    std::transform(text.begin(), text.end(), text.begin(), ::tolower);
    return text == "true" ? " = true" : " = false";
  }
  if (f.type == "float64") {
    const auto text = f.default_value.value_or("0");
    return " = " + text + (text.find('.') == std::string::npos ? ".0" : "");
  }
  return " = " + integer_default(f);
}

std::string comment(const field& f) {
  std::string about = f.about;
  std::replace(about.begin(), about.end(), '\n', ' ');
  auto text = "/// " + about + (about.empty() || about.back() == '.' ? "" : ".") + " Versions " +
              (f.present.none() ? "none"
                                : std::to_string(f.present.lo) +
                                      (f.present.open_ended() ? "+" : "-" + std::to_string(f.present.hi)));
  if (!f.nullable.none()) text += ", nullable " + std::to_string(f.nullable.lo) + "+";
  if (f.tag) text += ", tag " + std::to_string(*f.tag);
  return text + ".";
}

void emit_members(std::string& out, const message_model& model, const std::vector<field>& fields,
                  const std::string& indent) {
  for (const auto& f : fields) {
    out += indent + comment(f) + "\n";
    out += indent + member_type(model, f) + " " + snake_case(f.name) + member_default(model, f) + ";\n";
  }
  out += indent + "/// Tagged fields this build does not know, kept to be written back.\n";
  out += indent + "unknown_tagged_fields unknown_tags;\n";
}

void emit_struct_header(std::string& out, const message_model& model, const std::string& type) {
  const auto name = model.struct_name(type);
  out += "  /// " + type + ".\n  struct " + name + " {\n";
  emit_members(out, model, model.fields_of(type), "    ");
  out += "\n    template <class V, class S>\n    static void visit_fields(V& v, S& s, std::int16_t ver);\n";
  out += "    friend bool operator==(const " + name + "&, const " + name + "&) = default;\n  };\n\n";
}

std::string field_call(const message_model& model, const field& f) {
  const auto compact = f.flexible ? f.flexible->condition() : std::string("flex");
  const auto info =
      "field_info{\"" + f.name + "\", " + f.present.condition() + ", " + f.nullable.condition() + ", " + compact + "}";
  (void)model;
  if (f.tag) return "v.tagged(" + std::to_string(*f.tag) + ", s." + snake_case(f.name) + ", " + info + ");";
  return "v(s." + snake_case(f.name) + ", " + info + ");";
}

void emit_visit(std::string& out, const message_model& model, const std::vector<field>& fields,
                const std::string& qualified) {
  out += "template <class V, class S>\nvoid " + qualified + "::visit_fields(V& v, S& s, std::int16_t ver) {\n";
  out += "  (void)ver;\n  const bool flex = " + model.msg().flexible.condition() + ";\n";
  std::vector<const field*> tagged;
  for (const auto& f : fields) {
    if (f.tag)
      tagged.push_back(&f);
    else
      out += "  " + field_call(model, f) + "\n";
  }
  std::sort(tagged.begin(), tagged.end(), [](auto* a, auto* b) { return *a->tag < *b->tag; });
  out += "  if (!flex) return;\n  v.tags_begin();\n";
  for (const auto* f : tagged) out += "  " + field_call(model, *f) + "\n";
  out += "  v.tags_end(s.unknown_tags);\n}\n\n";
}

std::string range_text(const versions& v) {
  return v.none() ? "none" : std::to_string(v.lo) + (v.open_ended() ? "+" : "-" + std::to_string(v.hi));
}

void emit_message_header(std::string& out, const message_model& model) {
  const auto& m = model.msg();
  const auto name = model.cpp_name();
  out += "/// " + m.name + " (API key " + std::to_string(m.api_key.value_or(-1)) + "), versions " +
         range_text(m.valid) + ", flexible " + range_text(m.flexible) + "; from " + m.file + ".\n";
  out += "struct " + name + " {\n";
  for (const auto& type : model.ordered()) emit_struct_header(out, model, type);
  emit_members(out, model, m.fields, "  ");
  out += "\n  /// Decodes a body (the bytes after the header) of version `version`; total and bounded.\n";
  out += "  static result_or_failure<" + name +
         "> decode(byte_view body, std::int16_t version, const decode_limits& limits = {});\n";
  out += "  /// Appends the body, as version `version` writes it.\n";
  out += "  void encode(nodus::bytes& out, std::int16_t version) const;\n";
  out += "  /// The fields of version `version`, with the schema's names (`nodus kafka decode`).\n";
  out += "  json::value to_json(std::int16_t version) const;\n\n";
  out += "  template <class V, class S>\n  static void visit_fields(V& v, S& s, std::int16_t ver);\n";
  out += "  friend bool operator==(const " + name + "&, const " + name + "&) = default;\n};\n\n";
}

void emit_message_source(std::string& out, const message_model& model) {
  const auto name = model.cpp_name();
  for (const auto& type : model.ordered())
    emit_visit(out, model, model.fields_of(type), name + "::" + model.struct_name(type));
  emit_visit(out, model, model.msg().fields, name);
  out += "result_or_failure<" + name + "> " + name +
         "::decode(byte_view body, std::int16_t version, const decode_limits& limits) {\n";
  out += "  return detail::decode_message<" + name + ">(body, version, limits, \"" + model.msg().name + "\");\n}\n\n";
  out += "void " + name + "::encode(nodus::bytes& out, std::int16_t version) const {\n";
  out += "  detail::encode_message(*this, out, version);\n}\n\n";
  out += "json::value " + name +
         "::to_json(std::int16_t version) const { return detail::message_json(*this, version); }\n\n";
}

}  // namespace

result_or_failure<std::string> emit_api_header(const api_messages& api) {
  std::string out = "#pragma once\n// Generated by kafka_codegen from " + api.request.file + " and " +
                    api.response.file +
                    " (third_party/kafka/message). Do not edit.\n\n"
                    "#include <cstdint>\n#include <optional>\n#include <string>\n#include <vector>\n\n"
                    "#include \"nodus/kafka/message_support.hpp\"\n\nnamespace nodus::kafka {\n\n";
  for (const auto* m : {&api.request, &api.response}) {
    auto model = message_model::make(*m);
    if (!model) return fail(errc::malformed, m->file + ": a struct type is undefined or nested too deeply");
    emit_message_header(out, model.value());
  }
  return out + "}  // namespace nodus::kafka\n";
}

result_or_failure<std::string> emit_api_source(const api_messages& api) {
  const auto header = snake_case(api.name);
  std::string out = "// Generated by kafka_codegen from " + api.request.file + " and " + api.response.file +
                    ". Do not edit.\n#include \"nodus/kafka/generated/" + header +
                    ".hpp\"\n\n#include \"message_visitors.hpp\"\n\nnamespace nodus::kafka {\n\n";
  for (const auto* m : {&api.request, &api.response}) {
    auto model = message_model::make(*m);
    if (!model) return fail(errc::malformed, m->file + ": a struct type is undefined or nested too deeply");
    emit_message_source(out, model.value());
  }
  return out + "}  // namespace nodus::kafka\n";
}

}  // namespace nodus::kafka::codegen
