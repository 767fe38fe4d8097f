// nodus node create|list|show|stop|start|delete|logs: nodes that run in the background, each
// with its state in $NODUS_HOME/nodes/NAME (see home.hpp).

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli.hpp"
#include "daemon/run.hpp"
#include "home.hpp"
#include "node_client.hpp"
#include "project_files.hpp"

namespace nodus::cli {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* node_usage = R"(usage: nodus node <verb> [NAME] [options]

verbs:
  create NAME    start a new node in the background (state in $NODUS_HOME/nodes/NAME)
  list           every node, running or not
  show [NAME]    what a node runs: listeners, connections, relays, channels, portals
  stop NAME      stop a node; `start` brings it back with all its services
  start NAME     start a stopped node again
  delete NAME    stop a node and delete its directory (identity and keys included); --all: every node
  logs NAME      print a node's log (--follow: keep printing what it writes)

examples:
  nodus node create bob --tcp-listener-address 127.0.0.1:6000
  nodus node show bob --output json
  nodus node logs bob --follow
$NODUS_HOME is ~/.nodus unless set. `nodus node <verb> --help` describes each verb.
)";

result_or_failure<> stop_node(const std::string& name);

void print_summary(const json::value& node) {
  auto text = [&](std::string_view key) {
    const auto* v = node.find(key);
    return v && v->as_string() ? *v->as_string() : std::string("-");
  };
  std::cout << "node " << text("name") << " (pid " << (node.find("pid") ? json::dump(*node.find("pid")) : "-")
            << ")\n  identifier " << text("identifier") << " (identity " << text("identity") << ")\n";
  if (const auto* listeners = node.find("tcp_listeners"); listeners && listeners->as_array())
    for (const auto& l : *listeners->as_array())
      std::cout << "  tcp listener " << (l.find("address") ? *l.find("address")->as_string() : "?") << '\n';
  const std::pair<const char*, const char*> sections[] = {{"relays", "relays"},
                                                          {"secure_channel_listeners", "secure channel listeners"},
                                                          {"secure_channels", "secure channels"},
                                                          {"tcp_outlets", "tcp outlets"},
                                                          {"tcp_inlets", "tcp inlets"},
                                                          {"tcp_connections", "tcp connections"}};
  for (const auto& [key, label] : sections)
    if (const auto* list = node.find(key); list && list->as_array() && !list->as_array()->empty())
      std::cout << "  " << label << ": " << list->as_array()->size() << '\n';
  std::cout << "  control API " << text("api") << '\n';
}

// `nodus node create NAME [--identity ID] [--tcp-listener-address HOST:PORT]`
int create(const std::vector<std::string>& args) {
  std::string name, identity, listener, api_tcp, metrics, output, project_file;
  bool relay_service = false;
  po::options_description options("options");
  // clang-format off
  options.add_options()
      ("help,h", "show this help")
      ("name", po::value(&name)->required(), "the node's name (positional)")
      ("identity", po::value(&identity), "the name of its identity: one of $NODUS_HOME/vault (nodus identity "
       "create), or one made in the node's own vault (default: the node's name)")
      ("project", po::value(&project_file), "project.json (nodus project show --output json at the authority): the "
       "node joins the project with its identity's credential (nodus project enroll)")
      ("tcp-listener-address", po::value(&listener)->default_value("127.0.0.1:0"),
       "HOST:PORT of its TCP listener (port 0 picks one, kept across restarts)")
      ("api-tcp", po::value(&api_tcp), "also serve the control API on this loopback HOST:PORT, behind a bearer "
       "token written to the node's api.tcp.json")
      ("metrics", po::value(&metrics), "serve Prometheus metrics (/metrics) and a status page (/) on this loopback "
       "HOST:PORT (default: off)")
      ("relay-service", po::bool_switch(&relay_service),
       "serve relays for other nodes on its TCP listener (forwarding_service), as a hub does")
      ("output", po::value(&output), "text (default) or json");
  // clang-format on
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map values;
  if (auto done = parse("node create", "NAME [--identity ID] [--tcp-listener-address HOST:PORT]", args, options,
                        positional, values))
    return *done;
  const auto format = parse_output(output);
  if (!format) return fail("node create", "--output is text or json, not '" + output + "'", exit_usage);
  if (auto valid = check_node_name(name); !valid) return fail("node create", valid.error().message(), exit_usage);
  if (fs::exists(node_directory(name) / "node.json")) {
    if (auto pid = running_pid(name))
      return fail("node create",
                  "node '" + name + "' already exists and is running (pid " + std::to_string(*pid) + ")");
    return fail("node create", "node '" + name + "' already exists (stopped); start it with: nodus node start " + name);
  }
  json::value project;
  if (!project_file.empty()) {
    auto read = read_json_file(project_file);
    if (!read) return fail("node create", read.error().message(), exit_usage);
    auto info = project_info::from_json(read.value());
    if (!info) return fail("node create", project_file + ": " + info.error().message(), exit_usage);
    if (identity.empty())
      return fail("node create", "--project needs --identity NAME (an enrolled identity)", exit_usage);
    if (auto held = load_credential(default_vault_directory(), identity, info.value().authority.id); !held)
      return fail("node create", held.error().message());
    project = info.value().to_json();
  }
  if (auto written = write_new_node(name, identity, listener, api_tcp, metrics, relay_service, project); !written)
    return fail("node create", written.error().message());
  auto started = start_node_process(name);
  if (!started) return fail("node create", started.error().message());
  // A new node whose listener could not start is not what was asked for: undo it.
  if (const auto* pending = started.value().find("not_restored");
      pending && pending->as_array() && !pending->as_array()->empty()) {
    const auto* error = pending->as_array()->front().find("error");
    const std::string why = error && error->as_string() ? *error->as_string() : "a service did not start";
    (void)stop_node(name);
    std::error_code ignored;
    fs::remove_all(node_directory(name), ignored);
    return fail("node create", "node '" + name + "' not created: " + why);
  }
  if (*format == output_format::json)
    std::cout << json::dump(started.value(), true) << '\n';
  else
    print_summary(started.value());
  return 0;
}

int list(const std::vector<std::string>& args) {
  std::string output;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("output", po::value(&output), "text (default) or json");
  po::variables_map values;
  if (auto done = parse("node list", "[--output json]", args, options, {}, values)) return *done;
  const auto format = parse_output(output);
  if (!format) return fail("node list", "--output is text or json, not '" + output + "'", exit_usage);
  json::value nodes = json::array{};
  for (const auto& name : node_names()) {
    json::value entry;
    entry["name"] = name;
    const auto pid = running_pid(name);
    entry["status"] = pid ? "running" : "stopped";
    entry["pid"] = pid ? json::value(*pid) : json::value();
    auto config = read_json_file(node_directory(name) / "node.json");
    const auto* id = config ? config.value().find("identifier") : nullptr;
    entry["identifier"] = id ? *id : json::value();
    nodes.push_back(std::move(entry));
  }
  if (*format == output_format::json) {
    std::cout << json::dump(nodes, true) << '\n';
    return 0;
  }
  if (nodes.as_array()->empty()) std::cout << "no nodes (create one with: nodus node create NAME)\n";
  for (const auto& n : *nodes.as_array()) {
    const auto* id = n.find("identifier");
    std::cout << *n.find("name")->as_string() << "  " << *n.find("status")->as_string();
    if (n.find("pid")->as_int()) std::cout << " (pid " << *n.find("pid")->as_int() << ")";
    if (id && id->as_string()) std::cout << "  " << *id->as_string();
    std::cout << '\n';
  }
  return 0;
}

// Parses `VERB [NAME] [--output ...]` for show/stop/start/delete/logs.
struct named_args {
  std::string name;
  std::string output;
  bool follow = false;
  bool all = false;
};

std::optional<int> parse_named(const std::string& verb, const std::vector<std::string>& args, named_args& out,
                               bool name_required) {
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("name", po::value(&out.name), "the node (positional)");
  if (verb == "show") options.add_options()("output", po::value(&out.output), "text (default) or json");
  if (verb == "logs") options.add_options()("follow,f", po::bool_switch(&out.follow), "keep printing what it writes");
  if (verb == "delete") options.add_options()("all", po::bool_switch(&out.all), "every node (as Ockam's `reset`)");
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map values;
  if (auto done = parse("node " + verb, name_required ? "NAME" : "[NAME]", args, options, positional, values))
    return done;
  if (out.all) {
    if (!out.name.empty()) return fail("node " + verb, "give a NAME or --all, not both", exit_usage);
    return std::nullopt;
  }
  if (out.name.empty() && name_required) return fail("node " + verb, "which node? (give its NAME)", exit_usage);
  if (out.name.empty()) out.name = default_node_name;
  if (auto valid = check_node_name(out.name); !valid) return fail("node " + verb, valid.error().message(), exit_usage);
  if (!fs::exists(node_directory(out.name) / "node.json"))
    return fail("node " + verb, "no node named '" + out.name + "' (see: nodus node list)");
  if (!parse_output(out.output)) return fail("node " + verb, "--output is text or json", exit_usage);
  return std::nullopt;
}

// Waits until the node's process has let go of its lock (it has ended), at most `limit`.
bool wait_stopped(const std::string& name, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (running_pid(name)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

result_or_failure<> stop_node(const std::string& name) {
  const auto pid = running_pid(name);
  if (!pid) return outcome::success();
  auto asked = control::call(node_directory(name) / "api.sock", "POST", "/node/stop", {}, std::chrono::seconds(5));
  if ((!asked || asked.value().status != 200) && *pid > 0) ::kill(*pid, SIGTERM);  // the API is stuck: the signal
  if (wait_stopped(name, std::chrono::seconds(15))) return outcome::success();
  if (*pid > 0) ::kill(*pid, SIGKILL);
  if (wait_stopped(name, std::chrono::seconds(5))) return outcome::success();
  return nodus::fail(std::make_error_code(std::errc::timed_out), "node '" + name + "' did not stop");
}

int logs(const named_args& a) {
  std::ifstream in(node_directory(a.name) / "node.log");
  std::string line;
  for (;;) {
    while (std::getline(in, line)) std::cout << line << '\n';
    if (!a.follow) return 0;
    std::cout.flush();
    in.clear();  // at the end: wait for more (until ^C)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

int node_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << node_usage;
    return args.empty() ? exit_usage : 0;
  }
  const auto verb = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "create") return create(rest);
  if (verb == "list") return list(rest);
  if (verb == "run") {  // the node process itself (what `create` and `start` run in the background)
    if (rest.size() != 1) return fail("node run", "expected the node's NAME", exit_usage);
    return daemon::run(rest[0]);
  }
  if (verb != "show" && verb != "stop" && verb != "start" && verb != "delete" && verb != "logs")
    return fail("node", "unknown verb '" + verb + "' (see: nodus node --help)", exit_usage);
  named_args a;
  if (auto done = parse_named(verb, rest, a, verb != "show")) return *done;
  const std::string command = "node " + verb;
  if (a.all) {  // node delete --all
    for (const auto& name : node_names()) {
      if (auto stopped = stop_node(name); !stopped) return fail(command, stopped.error().message());
      std::error_code ec;
      fs::remove_all(node_directory(name), ec);
      if (ec) return fail(command, node_directory(name).string() + ": " + ec.message());
      std::cout << "node " << name << " deleted\n";
    }
    return 0;
  }
  if (verb == "show") {
    const auto format = *parse_output(a.output);
    return run_call(command, a.name, "GET", "/node", {}, format, print_summary);
  }
  if (verb == "logs") return logs(a);
  if (verb == "start") {
    if (auto pid = running_pid(a.name)) {
      std::cout << "node " << a.name << " is already running (pid " << *pid << ")\n";
      return 0;
    }
    auto started = start_node_process(a.name);
    if (!started) return fail(command, started.error().message());
    print_summary(started.value());
    return 0;
  }
  if (verb == "stop" && !running_pid(a.name)) return fail(command, "node '" + a.name + "' is not running");
  if (auto stopped = stop_node(a.name); !stopped) return fail(command, stopped.error().message());
  if (verb == "stop") {
    std::cout << "node " << a.name << " stopped\n";
    return 0;
  }
  std::error_code ec;
  fs::remove_all(node_directory(a.name), ec);
  if (ec) return fail(command, node_directory(a.name).string() + ": " + ec.message());
  std::cout << "node " << a.name << " deleted\n";
  return 0;
}

}  // namespace nodus::cli
