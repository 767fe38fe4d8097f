// What the verbs that call a node's control API share (verb_support.hpp).

#include "verb_support.hpp"

namespace nodus::cli {

// Prints each entry of a list as its `fields`, two spaces apart (a missing field as -).
std::function<void(const json::value&)> rows(std::vector<std::string> fields) {
  return [fields = std::move(fields)](const json::value& list) {
    const auto* items = list.as_array();
    if (!items || items->empty()) {
      std::cout << "(none)\n";
      return;
    }
    for (const auto& item : *items) {
      std::string line;
      for (const auto& f : fields) {
        const auto* v = item.find(f);
        const auto text = !v || v->is_null() ? "-" : v->as_string() ? *v->as_string() : json::dump(*v);
        line += (line.empty() ? "" : "  ") + (text.empty() ? std::string("-") : text);
      }
      std::cout << line << '\n';
    }
  };
}

// Prints one created or deleted thing: `label` and its fields.
std::function<void(const json::value&)> one(std::string label, std::vector<std::string> fields) {
  return [label = std::move(label), fields = std::move(fields)](const json::value& item) {
    std::cout << label;
    for (const auto& f : fields)
      if (const auto* v = item.find(f); v && !v->is_null())
        std::cout << ' ' << f << ' ' << (v->as_string() ? *v->as_string() : json::dump(*v));
    std::cout << '\n';
  };
}

json::value text_list(const std::vector<std::string>& items) {
  json::value out = json::array{};
  for (const auto& i : items) out.push_back(i);
  return out;
}

// A route option as the API wants it (Nodus text), or a usage error.
std::optional<int> route_option(const std::string& command, const std::string& text, user_route& out) {
  auto parsed = parse_user_route(text);
  if (!parsed) return fail(command, parsed.error().message(), exit_usage);
  out = std::move(parsed).value();
  return std::nullopt;
}

void add_trust_options(verb_line& v, std::vector<std::string>& authorized, bool& everyone) {
  v.options.add_options()("authorized", po::value(&authorized)->composing(),
                          "an identifier to trust (I and 40 hex digits; repeat for several)")(
      "trust-everyone", po::bool_switch(&everyone), "trust any identity that proves itself (choose it on purpose)");
}

// One of --authorized and --trust-everyone, checked before any node is started for the command.
bool node_has_project(const std::string& node) {
  auto config = read_json_file(node_directory(node) / "node.json");
  return config && (config.value().find("project") || config.value().find("authority"));
}

std::optional<int> check_trust(const std::string& command, const std::vector<std::string>& authorized, bool everyone,
                               const std::string& node) {
  if (!authorized.empty() && everyone)
    return fail(command, "give --authorized or --trust-everyone, not both", exit_usage);
  if (!authorized.empty() || everyone) return std::nullopt;
  if (node_has_project(node)) return std::nullopt;  // neither: the members of its project
  return fail(command,
              "a trust choice is required: --authorized ID (repeat for several), --trust-everyone, or a project "
              "whose members are trusted (node create --project, project create)",
              exit_usage);
}

void put_trust(json::value& body, const std::vector<std::string>& authorized, bool everyone) {
  body["authorized"] = text_list(authorized);
  body["trust_everyone"] = everyone;
}

int dispatch(const std::string& noun, const std::vector<std::string>& args, std::initializer_list<verb_entry> verbs) {
  std::string known;
  for (const auto& v : verbs) known += (known.empty() ? "" : ", ") + std::string(v.name);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: nodus " << noun << " <" << known << "> [options]\n`nodus " << noun
              << " <verb> --help` describes each.\n";
    return args.empty() ? exit_usage : 0;
  }
  for (const auto& v : verbs)
    if (args[0] == v.name) return v.run({args.begin() + 1, args.end()});
  return fail(noun, "unknown verb '" + args[0] + "' (expected " + known + ")", exit_usage);
}

std::optional<int> put_inlet_way(const std::string& command, const std::string& to, const std::string& via,
                                 const std::vector<std::string>& authorized, bool everyone, const std::string& outlet,
                                 const std::string& node, json::value& body) {
  user_route r;
  if (auto bad = route_option(command, to, r)) return *bad;
  if (!via.empty()) {
    if (!r.via.empty()) return fail(command, "give --via or /secure/ in --to, not both", exit_usage);
    user_route listener;
    if (auto bad = route_option(command, via, listener)) return *bad;
    if (!listener.via.empty()) return fail(command, "--via is a route to the listener, without /secure/", exit_usage);
    r.via = listener.route;
  }
  if (!r.via.empty() && r.route.empty())
    return fail(command, "--to: name the outlet after /secure/LISTENER (e.g. .../service/" + outlet + ")", exit_usage);
  if (!r.via.empty())
    if (auto bad = check_trust(command, authorized, everyone, node)) return *bad;
  body["to"] = r.route;
  body["via"] = r.via;
  if (!r.via.empty()) put_trust(body, authorized, everyone);
  return std::nullopt;
}

}  // namespace nodus::cli
