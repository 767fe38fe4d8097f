#include "route_text.hpp"

#include <regex>
#include <sstream>
#include <vector>

#include "home.hpp"
#include "nodus/core/route.hpp"

namespace nodus::cli {

namespace {

failure mistake(std::string reason) {
  return failure{std::make_error_code(std::errc::invalid_argument), std::move(reason)};
}

// The first TCP listener of the node `name`, as `1#HOST:PORT`.
result_or_failure<std::string> node_listener(const std::string& name) {
  if (auto valid = check_node_name(name); !valid) return mistake("/node/" + name + ": " + valid.error().message());
  auto config = read_json_file(node_directory(name) / "node.json");
  if (!config) return mistake("/node/" + name + ": no node named '" + name + "' here (see: nodus node list)");
  const auto* services = config.value().find("services");
  const auto* listeners = services ? services->find("tcp_listeners") : nullptr;
  if (listeners && listeners->as_array())
    for (const auto& l : *listeners->as_array())
      if (const auto* a = l.find("address"); a && a->as_string()) return "1#" + *a->as_string();
  return mistake("/node/" + name + ": that node has no TCP listener");
}

std::string join(const std::vector<std::string>& hops) {
  std::string out;
  for (const auto& hop : hops) out += (out.empty() ? "" : " => ") + hop;
  return out;
}

result_or_failure<user_route> parse_ockam(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text.substr(1));
  for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
  std::vector<std::string> hops;
  user_route out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& kind = parts[i];
    const bool has_value = i + 1 < parts.size() && !parts[i + 1].empty();
    if (!has_value) return mistake("'" + text + "': /" + kind + " needs a value after it");
    const auto& value = parts[++i];
    if (kind == "ip4" || kind == "ip6" || kind == "dnsaddr") {
      if (i + 2 >= parts.size() || parts[i + 1] != "tcp")
        return mistake("'" + text + "': /" + kind + "/" + value + " must be followed by /tcp/PORT");
      const auto host = kind == "ip6" ? "[" + value + "]" : value;
      hops.push_back("1#" + host + ":" + parts[i + 2]);
      i += 2;
    } else if (kind == "service" || kind == "worker") {
      hops.push_back(value);
    } else if (kind == "node") {
      auto listener = node_listener(value);
      if (!listener) return listener.error();
      hops.push_back(listener.value());
    } else if (kind == "secure") {
      if (!out.via.empty()) return mistake("'" + text + "': only one /secure/ hop is supported");
      hops.push_back(value);
      out.via = join(hops);
      hops.clear();
    } else {
      return mistake("'" + text + "': unknown kind /" + kind +
                     " (known: /ip4, /ip6, /dnsaddr, /tcp, /service, /worker, /node, /secure)");
    }
  }
  out.route = join(hops);
  for (const auto* part : {&out.route, &out.via})
    if (!part->empty())
      if (auto parsed = route::parse(*part); !parsed) return mistake("'" + text + "': " + parsed.error().message());
  return out;
}

}  // namespace

result_or_failure<user_route> parse_user_route(const std::string& text) {
  if (text.empty()) return mistake("an empty route");
  if (text[0] == '/') return parse_ockam(text);
  auto parsed = route::parse(text);
  if (!parsed) {
    if (text.find("->") != std::string::npos)
      return mistake("'" + text + "' is not a route: hops are separated by ' => ' (e.g. '1#127.0.0.1:4000 => echoer')");
    return mistake("'" + text + "' is not a route (" + parsed.error().message() + ")");
  }
  // A local hop that reads like HOST:PORT is almost always a forgotten `1#`.
  static const std::regex host_port(R"(([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5})");
  for (const auto& hop : parsed.value())
    if (hop.is_local() && std::regex_match(hop.value(), host_port))
      return mistake("'" + hop.value() + "' looks like a TCP address: write 1#" + hop.value() + " in a route");
  return user_route{parsed.value().to_string(), {}};
}

}  // namespace nodus::cli
