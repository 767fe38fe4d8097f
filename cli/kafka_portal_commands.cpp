// The Kafka portal verbs (nodus::kafka_portal, docs/kafka-portal.md): kafka-outlet on the node
// that reaches the brokers; kafka-inlet on the clients' node, and kafka-consumer and
// kafka-producer, its forms with the seeds' default ports (4000 and 5000). All three make the
// same kind of inlet and share one list.

#include "kafka_protection_options.hpp"
#include "verb_support.hpp"

namespace nodus::cli {
namespace {

int kafka_outlet_create(const std::vector<std::string>& args) {
  verb_line v(
      "kafka-outlet create", "--bootstrap-server HOST:PORT [--addr ADDRESS] [--allow POLICY] [--at NODE]",
      "  nodus kafka-outlet create --at hub --bootstrap-server 127.0.0.1:9092\n"
      "  nodus kafka-outlet create --at hub --bootstrap-server 127.0.0.1:9092 --allow 'exists(subject.kafka)'\n");
  std::string bootstrap, at, allow;
  v.options.add_options()("bootstrap-server", po::value(&bootstrap)->required(),
                          "a broker of the cluster to bootstrap from")(
      "addr", po::value(&at)->default_value("kafka_outlet"),
      "the outlet's address, reachable through the node's secure channel listeners")(
      "allow", po::value(&allow),
      "a policy over the peer's identifier and credential attributes (docs/policies.md): who may use the cluster "
      "through it (default: whoever the listeners let in)");
  if (auto done = v.parse(args)) return *done;
  json::value body;
  body["bootstrap_server"] = bootstrap;
  body["address"] = at;
  if (!allow.empty()) body["allow"] = allow;
  return run_call(v.command, v.node, "POST", "/kafka-outlets", body, v.format(),
                  one("kafka outlet", {"address", "bootstrap_server"}));
}

int kafka_outlet_list(const std::vector<std::string>& args) {
  verb_line v("kafka-outlet list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/kafka-outlets", {}, v.format(),
                  rows({"address", "bootstrap_server", "broker_outlets", "connections_open"}));
}

int kafka_outlet_delete(const std::vector<std::string>& args) {
  verb_line v("kafka-outlet delete", "ADDRESS [--at NODE]", "");
  std::string at;
  v.options.add_options()("address", po::value(&at)->required(), "the outlet's address (positional)");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/kafka-outlets/" + path_segment(at), {}, v.format(),
                  one("deleted kafka outlet", {"deleted"}));
}

// kafka-inlet, kafka-consumer and kafka-producer create: `from` and `range` are the defaults.
int kafka_inlet_create_as(const std::string& noun, inlet_kind kind, const std::vector<std::string>& args,
                          const std::string& from_default, const std::string& range_default) {
  verb_line v(noun + " create",
              "--to ROUTE [--from HOST:PORT] [--brokers-port-range FIRST-LAST] [--via ROUTE] "
              "[--authorized ID | --trust-everyone] [--capture FILE] [--at NODE]",
              "  nodus " + noun + " create --at alice --from " + from_default + " \\\n" +
                  "      --to /node/hub/secure/listener/service/kafka_outlet --authorized I0123...\n"
                  "  (clients bootstrap from " +
                  from_default + "; each broker gets a port of " + range_default +
                  ")\n"
                  "  kafka-inlet, kafka-consumer and kafka-producer make the same inlet, with other default ports.\n");
  std::string from, range, to, via, capture;
  std::vector<std::string> authorized;
  bool everyone = false;
  v.options.add_options()("from", po::value(&from)->default_value(from_default),
                          "the HOST:PORT Kafka clients bootstrap from")(
      "brokers-port-range", po::value(&range)->default_value(range_default),
      "the ports the brokers get, one each, in the order clients learn of them")(
      "to", po::value(&to)->required(), "the route to the kafka outlet; /secure/LISTENER in it makes a secure channel")(
      "via", po::value(&via), "the route to a secure channel listener; --to is then the outlet's address there")(
      "capture", po::value(&capture),
      "record every frame the clients send and receive in FILE (JSON, for nodus kafka decode and tests)");
  add_trust_options(v, authorized, everyone);
  protection_flags protection;
  add_protection_options(v, protection, kind);
  if (auto done = v.parse(args)) return *done;
  const auto dash = range.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == range.size() ||
      range.find_first_not_of("0123456789-") != std::string::npos)
    return fail(v.command, "--brokers-port-range is FIRST-LAST (e.g. " + range_default + "), not '" + range + "'",
                exit_usage);
  json::value body;
  body["from"] = from;
  body["brokers_port_range"] = range;
  if (!capture.empty()) body["capture"] = capture;
  if (auto bad = put_inlet_way(v.command, to, via, authorized, everyone, "kafka_outlet", v.node, body)) return *bad;
  if (auto bad = put_protection(v.command, protection, kind, v.node, body)) return *bad;
  return run_call(v.command, v.node, "POST", "/kafka-inlets", body, v.format(),
                  one("kafka inlet", {"from", "to", "via"}));
}

int kafka_inlet_list_as(const std::string& noun, const std::vector<std::string>& args) {
  verb_line v(noun + " list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/kafka-inlets", {}, v.format(),
                  rows({"from", "brokers_port_range", "via", "to", "brokers"}));
}

int kafka_inlet_delete_as(const std::string& noun, const std::vector<std::string>& args) {
  verb_line v(noun + " delete", "HOST:PORT [--at NODE]", "");
  std::string from;
  v.options.add_options()("from", po::value(&from)->required(), "the inlet's bootstrap HOST:PORT (positional)");
  v.positional.add("from", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/kafka-inlets/" + path_segment(from), {}, v.format(),
                  one("deleted kafka inlet", {"deleted"}));
}

int inlet_create(const std::vector<std::string>& a) {
  return kafka_inlet_create_as("kafka-inlet", inlet_kind::inlet, a, "127.0.0.1:4000", "4001-4100");
}
int consumer_create(const std::vector<std::string>& a) {
  return kafka_inlet_create_as("kafka-consumer", inlet_kind::consumer, a, "127.0.0.1:4000", "4001-4100");
}
int producer_create(const std::vector<std::string>& a) {
  return kafka_inlet_create_as("kafka-producer", inlet_kind::producer, a, "127.0.0.1:5000", "5001-5100");
}
int inlet_list(const std::vector<std::string>& a) { return kafka_inlet_list_as("kafka-inlet", a); }
int consumer_list(const std::vector<std::string>& a) { return kafka_inlet_list_as("kafka-consumer", a); }
int producer_list(const std::vector<std::string>& a) { return kafka_inlet_list_as("kafka-producer", a); }
int inlet_delete(const std::vector<std::string>& a) { return kafka_inlet_delete_as("kafka-inlet", a); }
int consumer_delete(const std::vector<std::string>& a) { return kafka_inlet_delete_as("kafka-consumer", a); }
int producer_delete(const std::vector<std::string>& a) { return kafka_inlet_delete_as("kafka-producer", a); }

}  // namespace

int kafka_outlet(const std::vector<std::string>& args) {
  return dispatch("kafka-outlet", args,
                  {{"create", kafka_outlet_create}, {"list", kafka_outlet_list}, {"delete", kafka_outlet_delete}});
}
int kafka_inlet(const std::vector<std::string>& args) {
  return dispatch("kafka-inlet", args, {{"create", inlet_create}, {"list", inlet_list}, {"delete", inlet_delete}});
}
int kafka_consumer(const std::vector<std::string>& args) {
  return dispatch("kafka-consumer", args,
                  {{"create", consumer_create}, {"list", consumer_list}, {"delete", consumer_delete}});
}
int kafka_producer(const std::vector<std::string>& args) {
  return dispatch("kafka-producer", args,
                  {{"create", producer_create}, {"list", producer_list}, {"delete", producer_delete}});
}

}  // namespace nodus::cli
