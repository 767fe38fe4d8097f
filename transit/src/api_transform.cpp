// transform/: format-preserving transformations and roles (Vault's transform engine shape), and
// encode/decode with them.
#include "api_support.hpp"
#include "nodus/transit/transform.hpp"

namespace nodus::transit::detail {
namespace {

http_response unsupported() {
  return error_response(make_error_code(transit_errc::unsupported_path), "unsupported path");
}
http_response wrong_method() {
  return error_response(make_error_code(transit_errc::method_not_allowed), "unsupported operation");
}

json::value names_json(const std::vector<std::string>& names) {
  json::value out = json::array{};
  for (const auto& n : names) out.push_back(n);
  return out;
}

std::vector<std::string> names_member(const json::value& body, std::string_view key, std::string& bad) {
  std::vector<std::string> out;
  const auto* v = body.find(key);
  if (!v || v->is_null()) return out;
  if (const auto* s = v->as_string()) {  // Vault also takes a comma-separated string
    std::string_view rest = *s;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (comma != 0) out.emplace_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return out;
  }
  const auto* list = v->as_array();
  if (!list) {
    bad = "'" + std::string(key) + "' must be a list of names";
    return out;
  }
  for (const auto& n : *list) {
    if (!n.as_string()) {
      bad = "'" + std::string(key) + "' must be a list of names";
      return {};
    }
    out.push_back(*n.as_string());
  }
  return out;
}

json::value transformation_json(const fpe_transformation& t) {
  json::value d;
  d["type"] = "fpe";
  d["templates"] = json::array{t.template_name};
  d["tweak_source"] = t.tweaks == tweak_source::supplied   ? "supplied"
                      : t.tweaks == tweak_source::internal ? "internal"
                                                           : "generated";
  d["algorithm"] = t.algorithm == fpe_algorithm::ff1 ? "ff1" : "ff3-1";
  d["allowed_roles"] = names_json(t.allowed_roles);
  return d;
}

http_response write_transformation(const call& c, const std::string& name) {
  http_response refused;
  if (!allowed(c, operation::create, name, refused)) return refused;
  std::string bad;
  const auto type = text_member(c.body, "type", bad).value_or("fpe");
  auto template_name = text_member(c.body, "template", bad);
  if (!template_name) {
    const auto templates = names_member(c.body, "templates", bad);
    if (templates.size() == 1) template_name = templates.front();
  }
  const auto source = text_member(c.body, "tweak_source", bad).value_or("supplied");
  const auto algorithm = text_member(c.body, "algorithm", bad).value_or("ff3-1");
  fpe_transformation t{name, template_name.value_or(""), tweak_source::supplied, fpe_algorithm::ff3_1,
                       names_member(c.body, "allowed_roles", bad)};
  if (!bad.empty()) return bad_request(bad);
  if (type != "fpe") return bad_request("transformation type '" + type + "' is not supported: this service has fpe");
  if (!template_name) return bad_request("missing 'template' (e.g. builtin/creditcardnumber)");
  if (source == "supplied")
    t.tweaks = tweak_source::supplied;
  else if (source == "internal")
    t.tweaks = tweak_source::internal;
  else if (source == "generated")
    t.tweaks = tweak_source::generated;
  else
    return bad_request("'tweak_source' is supplied, internal or generated, not '" + source + "'");
  if (algorithm == "ff1")
    t.algorithm = fpe_algorithm::ff1;
  else if (algorithm != "ff3-1")
    return bad_request("'algorithm' is ff3-1 (default) or ff1, not '" + algorithm + "'");
  auto written = c.options.transforms->write_transformation(t);
  return written ? data_response(transformation_json(written.value())) : error_response(written.error());
}

http_response transformation_endpoint(const call& c, const std::string& name) {
  auto& transforms = *c.options.transforms;
  http_response refused;
  if (c.method == "POST") return write_transformation(c, name);
  if (c.method == "GET") {
    if (!allowed(c, operation::read, name, refused)) return refused;
    auto t = transforms.read_transformation(name);
    if (!t) return {404, R"({"errors":[]})"};
    return data_response(transformation_json(t.value()));
  }
  if (c.method == "DELETE") {
    if (!allowed(c, operation::remove, name, refused)) return refused;
    auto deleted = transforms.delete_transformation(name);
    return deleted ? no_content() : error_response(deleted.error());
  }
  return wrong_method();
}

http_response role_endpoint(const call& c, const std::string& name) {
  auto& transforms = *c.options.transforms;
  http_response refused;
  if (c.method == "POST") {
    if (!allowed(c, operation::create, name, refused)) return refused;
    std::string bad;
    transform_role r{name, names_member(c.body, "transformations", bad)};
    if (!bad.empty()) return bad_request(bad);
    auto written = transforms.write_role(r);
    if (!written) return error_response(written.error());
    json::value d;
    d["transformations"] = names_json(written.value().transformations);
    return data_response(std::move(d));
  }
  if (c.method == "GET") {
    if (!allowed(c, operation::read, name, refused)) return refused;
    auto r = transforms.read_role(name);
    if (!r) return {404, R"({"errors":[]})"};
    json::value d;
    d["transformations"] = names_json(r.value().transformations);
    return data_response(std::move(d));
  }
  if (c.method == "DELETE") {
    if (!allowed(c, operation::remove, name, refused)) return refused;
    auto deleted = transforms.delete_role(name);
    return deleted ? no_content() : error_response(deleted.error());
  }
  return wrong_method();
}

http_response listing(const call& c, const std::vector<std::string>& names) {
  http_response refused;
  if (!allowed(c, operation::list, "", refused)) return refused;
  if (names.empty()) return {404, R"({"errors":[]})"};
  json::value d;
  d["keys"] = names_json(names);
  return data_response(std::move(d));
}

http_response code_endpoint(const call& c, const std::string& role, bool encoding) {
  http_response refused;
  if (!allowed(c, encoding ? operation::encode : operation::decode, role, refused)) return refused;
  std::string bad;
  const auto default_transformation = text_member(c.body, "transformation", bad).value_or("");
  if (!bad.empty()) return bad_request(bad);
  return per_item(c, [&](const json::value& item) -> item_result {
    std::string why;
    const auto value = text_member(item, "value", why);
    const auto transformation = text_member(item, "transformation", why).value_or(default_transformation);
    const auto tweak = text_member(item, "tweak", why).value_or("");
    if (!why.empty()) return item_error(why);
    if (!value) return item_error("missing 'value'");
    json::value d;
    if (encoding) {
      auto out = c.options.transforms->encode(role, transformation, *value, tweak);
      if (!out) return from(out.error());
      d["encoded_value"] = out.value().value;
      if (!out.value().tweak.empty()) d["tweak"] = out.value().tweak;
    } else {
      auto out = c.options.transforms->decode(role, transformation, *value, tweak);
      if (!out) return from(out.error());
      d["decoded_value"] = out.value();
    }
    return {std::move(d), std::nullopt};
  });
}

}  // namespace

http_response transform_endpoint(const call& c) {
  const auto& s = c.segments;  // v1 transform ...
  if (s.size() < 3) return unsupported();
  const auto& what = s[2];
  if ((what == "encode" || what == "decode") && s.size() == 4) {
    if (c.method != "POST") return wrong_method();
    return code_endpoint(c, s[3], what == "encode");
  }
  if (what == "transformations" && s.size() == 5 && s[3] == "fpe") {
    if (c.method != "POST") return wrong_method();
    return write_transformation(c, s[4]);
  }
  if (what == "transformation" && s.size() == 4) return transformation_endpoint(c, s[3]);
  if (what == "transformation" && s.size() == 3 && c.method == "LIST")
    return listing(c, c.options.transforms->transformation_names());
  if (what == "role" && s.size() == 4) return role_endpoint(c, s[3]);
  if (what == "role" && s.size() == 3 && c.method == "LIST") return listing(c, c.options.transforms->role_names());
  return unsupported();
}

}  // namespace nodus::transit::detail
