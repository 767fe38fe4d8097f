// The verbs that act on a running node through its control API: tcp-listener, tcp-connection,
// relay, secure-channel-listener, secure-channel, tcp-outlet, tcp-inlet, status and
// `message send --from`. Each takes the node with --at (or --from/--to where Ockam does), the
// default node when none is given.

#include <iostream>

#include "cli.hpp"
#include "home.hpp"
#include "node_client.hpp"
#include "route_text.hpp"
#include "verb_support.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

namespace {

// ---- tcp-listener ----------------------------------------------------------------------------

int tcp_listener_create(const std::vector<std::string>& args) {
  verb_line v("tcp-listener create", "HOST:PORT [--at NODE] [--expose WORKER]...",
              "  nodus tcp-listener create 127.0.0.1:6000 --at bob\n");
  std::string bind;
  std::vector<std::string> expose;
  v.options.add_options()("address", po::value(&bind)->required(), "HOST:PORT to listen on (positional)")(
      "expose", po::value(&expose)->composing(),
      "a worker its connections may reach besides the secure channel listeners (repeat for several)");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  json::value body;
  body["address"] = bind;
  body["expose"] = text_list(expose);
  return run_call(v.command, v.node, "POST", "/tcp-listeners", body, v.format(), one("tcp listener", {"address"}));
}

int tcp_listener_list(const std::vector<std::string>& args) {
  verb_line v("tcp-listener list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/tcp-listeners", {}, v.format(), rows({"address", "expose"}));
}

int tcp_listener_delete(const std::vector<std::string>& args) {
  verb_line v("tcp-listener delete", "HOST:PORT [--at NODE]", "");
  std::string bound;
  v.options.add_options()("address", po::value(&bound)->required(), "the listener's HOST:PORT (positional)");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/tcp-listeners/" + path_segment(bound), {}, v.format(),
                  one("deleted tcp listener", {"deleted"}));
}

// ---- tcp-connection --------------------------------------------------------------------------

int tcp_connection_create(const std::vector<std::string>& args) {
  verb_line v("tcp-connection create", "--to HOST:PORT [--from NODE]",
              "  nodus tcp-connection create --from alice --to 127.0.0.1:4000\n", "from");
  std::string to;
  v.options.add_options()("to", po::value(&to)->required(), "HOST:PORT to connect to");
  if (auto done = v.parse(args)) return *done;
  json::value body;
  body["to"] = to;
  return run_call(v.command, v.node, "POST", "/tcp-connections", body, v.format(),
                  one("tcp connection", {"peer", "worker", "route"}));
}

int tcp_connection_list(const std::vector<std::string>& args) {
  verb_line v("tcp-connection list", "[--from NODE] [--output json]", "", "from");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/tcp-connections", {}, v.format(), rows({"peer", "worker", "outgoing"}));
}

int tcp_connection_delete(const std::vector<std::string>& args) {
  verb_line v("tcp-connection delete", "PEER|WORKER [--from NODE]", "", "from");
  std::string which;
  v.options.add_options()("which", po::value(&which)->required(), "HOST:PORT or worker address (positional)");
  v.positional.add("which", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/tcp-connections/" + path_segment(which), {}, v.format(),
                  one("deleted tcp connection", {"deleted"}));
}

// ---- relay -----------------------------------------------------------------------------------

int relay_create(const std::vector<std::string>& args) {
  verb_line v("relay create", "[NAME] --at HUB_ROUTE [--to NODE] [--expose WORKER]...",
              "  nodus relay create bob --at 1#127.0.0.1:4000 --to bob\n"
              "  nodus relay create bob --at /node/hub --to bob\n"
              "  nodus relay create bob --at /node/hub/secure/listener --to bob   (a project's members-only hub)\n",
              "to");
  std::string name, at;
  std::vector<std::string> expose;
  double timeout = 10;
  v.options.add_options()("name", po::value(&name),
                          "the relay's name: peers reach forward_to_NAME (positional; "
                          "default: one the hub picks)")(
      "at", po::value(&at)->required(),
      "the route to the hub, e.g. 1#127.0.0.1:4000; with a project, to its listener: /node/hub/secure/listener "
      "(the registration then goes through a secure channel between members)")(
      "expose", po::value(&expose)->composing(),
      "a worker reachable through the relay besides the node's secure "
      "channel listeners")("timeout", po::value(&timeout)->default_value(10), "seconds to wait for the registration");
  v.positional.add("name", 1);
  if (auto done = v.parse(args)) return *done;
  user_route hub;
  if (auto bad = route_option(v.command, at, hub)) return *bad;
  if (!hub.via.empty() && !hub.route.empty())
    return fail(v.command, "--at: end the route at the hub's listener (.../secure/LISTENER), nothing after it",
                exit_usage);
  if (!hub.via.empty() && !node_has_project(v.node))
    return fail(v.command,
                "--at .../secure/LISTENER: a relay registers through a secure channel only with a project "
                "(node create --project); without one, give the route to the hub itself",
                exit_usage);
  if (timeout <= 0) return fail(v.command, "--timeout must be positive", exit_usage);
  json::value body;
  body["name"] = name;
  body["at"] = hub.route;
  if (!hub.via.empty()) body["via"] = hub.via;
  body["expose"] = text_list(expose);
  body["timeout_ms"] = static_cast<long long>(timeout * 1000);
  return run_call(v.command, v.node, "POST", "/relays", body, v.format(),
                  one("relay", {"name", "relay", "state", "at"}),
                  std::chrono::milliseconds(static_cast<long long>(timeout * 1000) + 5000));
}

int relay_list(const std::vector<std::string>& args) {
  verb_line v("relay list", "[--to NODE] [--output json]", "", "to");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/relays", {}, v.format(),
                  rows({"name", "relay", "state", "at", "last_error"}));
}

int relay_delete(const std::vector<std::string>& args) {
  verb_line v("relay delete", "NAME [--to NODE]", "", "to");
  std::string name;
  v.options.add_options()("name", po::value(&name)->required(), "the relay's name (positional)");
  v.positional.add("name", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/relays/" + path_segment(name), {}, v.format(),
                  one("deleted relay", {"deleted"}));
}

// ---- secure-channel-listener -----------------------------------------------------------------

int listener_create(const std::vector<std::string>& args) {
  verb_line v("secure-channel-listener create", "ADDRESS [--at NODE] (--authorized ID... | --trust-everyone)",
              "  nodus secure-channel-listener create listener --at bob --authorized I0123...\n");
  std::string at;
  std::vector<std::string> authorized, expose;
  bool everyone = false;
  v.options.add_options()("address", po::value(&at)->required(), "the listener's address, e.g. listener (positional)")(
      "expose", po::value(&expose)->composing(), "a worker its channels may reach besides the echoer and the outlets");
  add_trust_options(v, authorized, everyone);
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  if (auto bad = check_trust(v.command, authorized, everyone, v.node)) return *bad;
  json::value body;
  body["address"] = at;
  body["expose"] = text_list(expose);
  put_trust(body, authorized, everyone);
  return run_call(v.command, v.node, "POST", "/secure-channel-listeners", body, v.format(),
                  one("secure channel listener", {"address", "identifier"}));
}

int listener_list(const std::vector<std::string>& args) {
  verb_line v("secure-channel-listener list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/secure-channel-listeners", {}, v.format(),
                  rows({"address", "authorized", "trust_everyone", "channels"}));
}

int listener_delete(const std::vector<std::string>& args) {
  verb_line v("secure-channel-listener delete", "ADDRESS [--at NODE]", "");
  std::string at;
  v.options.add_options()("address", po::value(&at)->required(), "the listener's address (positional)");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/secure-channel-listeners/" + path_segment(at), {}, v.format(),
                  one("deleted secure channel listener", {"deleted"}));
}

// ---- secure-channel --------------------------------------------------------------------------

int channel_create(const std::vector<std::string>& args) {
  verb_line v("secure-channel create", "--to ROUTE [--from NODE] (--authorized ID | --trust-everyone)",
              "  nodus secure-channel create --from alice --to '1#127.0.0.1:4000 => forward_to_bob => listener' "
              "--authorized I0123...\n"
              "  nodus secure-channel create --from alice --to /node/hub/service/forward_to_bob/service/listener "
              "--authorized I0123...\n"
              "then: nodus message send hello --from alice --to 'ADDRESS => echoer' (ADDRESS as printed)\n",
              "from");
  std::string to, identity;
  std::vector<std::string> authorized;
  bool everyone = false;
  double timeout = 30;
  v.options.add_options()("to", po::value(&to)->required(), "the route to the secure channel listener")(
      "identity", po::value(&identity), "which identity of the node's vault (default: the node's)")(
      "timeout", po::value(&timeout)->default_value(30), "seconds to wait for the handshake");
  add_trust_options(v, authorized, everyone);
  if (auto done = v.parse(args)) return *done;
  if (auto bad = check_trust(v.command, authorized, everyone, v.node)) return *bad;
  user_route r;
  if (auto bad = route_option(v.command, to, r)) return *bad;
  if (!r.via.empty()) {
    if (!r.route.empty())
      return fail(v.command, "--to ends at the listener: nothing may follow /secure/NAME here", exit_usage);
    r.route = r.via;
  }
  if (timeout <= 0) return fail(v.command, "--timeout must be positive", exit_usage);
  json::value body;
  body["to"] = r.route;
  if (!identity.empty()) body["identity"] = identity;
  body["timeout_ms"] = static_cast<long long>(timeout * 1000);
  put_trust(body, authorized, everyone);
  auto print = [](const json::value& c) {
    std::cout << *c.find("address")->as_string() << '\n';  // alone on its line: scripts take it
    std::cerr << "secure channel to " << *c.find("peer")->as_string() << " via " << *c.find("to")->as_string() << '\n';
  };
  return run_call(v.command, v.node, "POST", "/secure-channels", body, v.format(), print,
                  std::chrono::milliseconds(static_cast<long long>(timeout * 1000) + 5000));
}

int channel_list(const std::vector<std::string>& args) {
  verb_line v("secure-channel list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/secure-channels", {}, v.format(),
                  rows({"address", "peer", "initiator", "open", "sent", "delivered", "to"}));
}

int channel_delete(const std::vector<std::string>& args) {
  verb_line v("secure-channel delete", "ADDRESS [--at NODE]", "");
  std::string at;
  v.options.add_options()("address", po::value(&at)->required(), "the channel's address (positional)");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/secure-channels/" + path_segment(at), {}, v.format(),
                  one("deleted secure channel", {"deleted"}));
}

// ---- tcp-outlet, tcp-inlet -------------------------------------------------------------------

int outlet_create(const std::vector<std::string>& args) {
  verb_line v("tcp-outlet create", "--to HOST:PORT [--from ADDRESS] [--allow POLICY] [--at NODE]",
              "  nodus tcp-outlet create --at bob --to 127.0.0.1:8080\n"
              "  nodus tcp-outlet create --at bob --to 127.0.0.1:5432 --allow 'subject.role = \"db\"'\n");
  std::string to, from, allow;
  v.options.add_options()("to", po::value(&to)->required(), "the HOST:PORT each portal connection is carried to")(
      "from", po::value(&from)->default_value("outlet"),
      "the outlet's address, reachable through the node's secure "
      "channel listeners")("allow", po::value(&allow),
                           "a policy over the peer's identifier and credential attributes (docs/policies.md): "
                           "who may open connections (default: whoever the listeners let in)");
  if (auto done = v.parse(args)) return *done;
  json::value body;
  body["to"] = to;
  body["address"] = from;
  if (!allow.empty()) body["allow"] = allow;
  return run_call(v.command, v.node, "POST", "/tcp-outlets", body, v.format(), one("tcp outlet", {"address", "to"}));
}

int outlet_list(const std::vector<std::string>& args) {
  verb_line v("tcp-outlet list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/tcp-outlets", {}, v.format(),
                  rows({"address", "to", "connections_open", "connections_total", "bytes_in", "bytes_out"}));
}

int outlet_delete(const std::vector<std::string>& args) {
  verb_line v("tcp-outlet delete", "ADDRESS [--at NODE]", "");
  std::string at;
  v.options.add_options()("address", po::value(&at)->required(), "the outlet's address (positional)");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/tcp-outlets/" + path_segment(at), {}, v.format(),
                  one("deleted tcp outlet", {"deleted"}));
}

int inlet_create(const std::vector<std::string>& args) {
  verb_line v("tcp-inlet create", "--from HOST:PORT --to ROUTE [--at NODE] [--authorized ID | --trust-everyone]",
              "  nodus tcp-inlet create --at alice --from 127.0.0.1:7000 \\\n"
              "      --to /node/hub/service/forward_to_bob/secure/listener/service/outlet --authorized I0123...\n"
              "  (the inlet makes a secure channel to forward_to_bob => listener, and reaches outlet through it)\n");
  std::string from, to, via;
  std::vector<std::string> authorized;
  bool everyone = false;
  v.options.add_options()("from", po::value(&from)->required(), "the HOST:PORT to accept TCP clients on")(
      "to", po::value(&to)->required(), "the route to the outlet; /secure/LISTENER in it makes a secure channel")(
      "via", po::value(&via),
      "the route to a secure channel listener to make a channel to; --to is then the "
      "outlet's address at the far end (Nodus's form of /secure/)");
  add_trust_options(v, authorized, everyone);
  if (auto done = v.parse(args)) return *done;
  json::value body;
  body["from"] = from;
  if (auto bad = put_inlet_way(v.command, to, via, authorized, everyone, "outlet", v.node, body)) return *bad;
  return run_call(v.command, v.node, "POST", "/tcp-inlets", body, v.format(), one("tcp inlet", {"from", "to", "via"}));
}

int inlet_list(const std::vector<std::string>& args) {
  verb_line v("tcp-inlet list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/tcp-inlets", {}, v.format(),
                  rows({"from", "via", "to", "connections_open", "connections_total", "bytes_in", "bytes_out"}));
}

int inlet_delete(const std::vector<std::string>& args) {
  verb_line v("tcp-inlet delete", "HOST:PORT [--at NODE]", "");
  std::string from;
  v.options.add_options()("from", po::value(&from)->required(), "the inlet's HOST:PORT (positional)");
  v.positional.add("from", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/tcp-inlets/" + path_segment(from), {}, v.format(),
                  one("deleted tcp inlet", {"deleted"}));
}

int worker_list(const std::vector<std::string>& args) {
  verb_line v("worker list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/workers", {}, v.format(), rows({"addresses", "kind", "queued"}));
}

}  // namespace

int worker(const std::vector<std::string>& args) { return dispatch("worker", args, {{"list", worker_list}}); }

int tcp_listener(const std::vector<std::string>& args) {
  return dispatch("tcp-listener", args,
                  {{"create", tcp_listener_create}, {"list", tcp_listener_list}, {"delete", tcp_listener_delete}});
}
int tcp_connection(const std::vector<std::string>& args) {
  return dispatch(
      "tcp-connection", args,
      {{"create", tcp_connection_create}, {"list", tcp_connection_list}, {"delete", tcp_connection_delete}});
}
int relay(const std::vector<std::string>& args) {
  return dispatch("relay", args, {{"create", relay_create}, {"list", relay_list}, {"delete", relay_delete}});
}
int secure_channel_listener(const std::vector<std::string>& args) {
  return dispatch("secure-channel-listener", args,
                  {{"create", listener_create}, {"list", listener_list}, {"delete", listener_delete}});
}
int secure_channel(const std::vector<std::string>& args) {
  return dispatch("secure-channel", args,
                  {{"create", channel_create}, {"list", channel_list}, {"delete", channel_delete}});
}
int tcp_outlet(const std::vector<std::string>& args) {
  return dispatch("tcp-outlet", args, {{"create", outlet_create}, {"list", outlet_list}, {"delete", outlet_delete}});
}
int tcp_inlet(const std::vector<std::string>& args) {
  return dispatch("tcp-inlet", args, {{"create", inlet_create}, {"list", inlet_list}, {"delete", inlet_delete}});
}

int status(const std::vector<std::string>& args) {
  verb_line v("status", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return node_command({"show", v.node, "--output", v.output.empty() ? "text" : v.output});
}

int message_send_from_node(const std::string& node, const std::string& to, const std::string& text,
                           double timeout_seconds) {
  const std::string command = "message send";
  user_route r;
  if (auto bad = route_option(command, to, r)) return *bad;
  if (!r.via.empty())
    return fail(command,
                "/secure/ in --to: create the channel first (nodus secure-channel create), then send "
                "to 'CHANNEL => WORKER'",
                exit_usage);
  json::value body;
  body["to"] = r.route;
  body["text"] = text;
  body["timeout_ms"] = static_cast<long long>(timeout_seconds * 1000);
  return run_call(
      command, node, "POST", "/messages", body, output_format::text,
      [](const json::value& reply) { std::cout << *reply.find("reply")->as_string() << '\n'; },
      std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000) + 5000));
}

}  // namespace nodus::cli
