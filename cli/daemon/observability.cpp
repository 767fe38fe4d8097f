// The node's metrics endpoint (`--metrics HOST:PORT`, loopback only, off by default):
// Prometheus text at /metrics, a live status page at /, and what it shows at /status.json.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <map>
#include <sstream>

#include "node_daemon.hpp"
#include "status_page.hpp"

namespace nodus::cli::daemon {

namespace {

// A label value as the Prometheus text format wants it: \, " and newlines escaped.
std::string label(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

struct metric_writer {
  std::ostringstream out;
  std::map<std::string, bool> described;

  void add(const std::string& name, const char* type, const char* help, double value, const std::string& labels = {}) {
    if (!described[name]) {
      out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
      described[name] = true;
    }
    out << name << (labels.empty() ? "" : "{" + labels + "}") << ' ' << static_cast<long long>(value) << '\n';
  }
};

std::int64_t number(const json::value& v, std::string_view key) {
  const auto* member = v.find(key);
  return member ? member->as_int().value_or(0) : 0;
}

std::string text(const json::value& v, std::string_view key) {
  const auto* member = v.find(key);
  return member && member->as_string() ? *member->as_string() : std::string();
}

const json::array& items(const json::value& v, std::string_view key) {
  static const json::array none;
  const auto* member = v.find(key);
  return member && member->as_array() ? *member->as_array() : none;
}

// Everything comes from what `node show` reports, so the two never disagree.
std::string prometheus_text(node_state& s) {
  const auto node = s.describe();
  metric_writer m;
  const auto node_label = "node=\"" + label(s.name) + "\"";
  m.add("nodus_workers", "gauge", "Workers, processors and contexts registered on the node.", number(node, "workers"),
        node_label);
  m.add("nodus_tcp_listeners", "gauge", "TCP listeners open.", static_cast<double>(items(node, "tcp_listeners").size()),
        node_label);
  std::int64_t outgoing = 0, incoming = 0;
  for (const auto& c : items(node, "tcp_connections"))
    (c.find("outgoing")->as_bool().value_or(false) ? outgoing : incoming)++;
  m.add("nodus_tcp_connections", "gauge", "TCP connections open.", static_cast<double>(outgoing),
        node_label + ",direction=\"outgoing\"");
  m.add("nodus_tcp_connections", "gauge", "TCP connections open.", static_cast<double>(incoming),
        node_label + ",direction=\"incoming\"");
  if (const auto* tcp = node.find("tcp")) {
    const std::pair<const char*, const char*> tcp_metrics[] = {
        {"bytes_in", "Bytes read from TCP connections."},
        {"bytes_out", "Bytes written to TCP connections."},
        {"messages_in", "Messages received over TCP."},
        {"messages_out", "Messages sent over TCP."},
        {"connections_accepted", "TCP connections accepted by the node's listeners."},
        {"connections_dialled", "TCP connections the node opened."}};
    for (const auto& [key, help] : tcp_metrics)
      m.add(std::string("nodus_tcp_") + key + "_total", "counter", help, static_cast<double>(number(*tcp, key)),
            node_label);
  }
  for (const auto& r : items(node, "relays")) {
    const auto labels = node_label + ",relay=\"" + label(text(r, "name")) + "\"";
    m.add("nodus_relay_registered", "gauge", "1 while the relay is registered at its hub.",
          text(r, "state") == "registered" ? 1 : 0, labels);
    m.add("nodus_relay_registrations_total", "counter", "Successful registrations and renewals of the relay.",
          static_cast<double>(number(r, "registrations")), labels);
  }
  std::map<std::string, std::int64_t> channel_totals;
  std::int64_t open_channels = 0;
  for (const auto& c : items(node, "secure_channels")) {
    open_channels += c.find("open")->as_bool().value_or(false) ? 1 : 0;
    for (const auto* key : {"sent", "delivered", "duplicates_dropped", "rejected", "missing"})
      channel_totals[key] += number(c, key);
  }
  m.add("nodus_secure_channels_open", "gauge", "Secure channels open (made here or accepted by a listener).",
        static_cast<double>(open_channels), node_label);
  m.add("nodus_secure_channels_total", "counter", "Secure channels established since the node started.",
        static_cast<double>(items(node, "secure_channels").size()), node_label);
  const std::pair<const char*, const char*> channel_metrics[] = {
      {"sent", "Messages encrypted and sent over secure channels."},
      {"delivered", "Messages decrypted and delivered from secure channels."},
      {"duplicates_dropped", "Replayed or duplicated secure channel messages dropped."},
      {"rejected", "Secure channel frames rejected (authentication failed, too old, malformed)."},
      {"missing", "Secure channel sequence numbers never received (gaps)."}};
  for (const auto& [key, help] : channel_metrics)
    m.add(std::string("nodus_secure_channel_") + key + "_total", "counter", help,
          static_cast<double>(channel_totals[key]), node_label);
  const std::pair<const char*, const char*> portal_kinds[] = {{"tcp_inlets", "inlet"}, {"tcp_outlets", "outlet"}};
  for (const auto& [key, kind] : portal_kinds)
    for (const auto& p : items(node, key)) {
      const auto labels = node_label + ",kind=\"" + kind + "\",portal=\"" +
                          label(text(p, std::string_view(kind) == "inlet" ? "from" : "address")) + "\"";
      m.add("nodus_portal_connections_open", "gauge", "Portal connections open.",
            static_cast<double>(number(p, "connections_open")), labels);
      m.add("nodus_portal_connections_total", "counter", "Portal connections started.",
            static_cast<double>(number(p, "connections_total")), labels);
      m.add("nodus_portal_connections_failed_total", "counter", "Portal connections that failed.",
            static_cast<double>(number(p, "connections_failed")), labels);
      m.add("nodus_portal_bytes_in_total", "counter", "Bytes read from the portal's sockets into the portal.",
            static_cast<double>(number(p, "bytes_in")), labels);
      m.add("nodus_portal_bytes_out_total", "counter", "Bytes from the portal written to its sockets.",
            static_cast<double>(number(p, "bytes_out")), labels);
    }
  // The end-to-end encryption of Kafka inlets (docs/kafka-encryption.md): one counter per outcome.
  for (const auto& i : items(node, "kafka_inlets")) {
    const auto* protection = i.find("protection");
    const auto* counts = protection ? protection->find("counts") : nullptr;
    if (!counts || !counts->as_object()) continue;
    for (const auto& [outcome, value] : *counts->as_object())
      m.add("nodus_kafka_records_total", "counter",
            "Kafka records a protecting inlet has handled, by outcome (sealed, opened, undecryptable, skipped, "
            "tagged, replays, ...; gaps and missing count sequence gaps and the records they skipped).",
            static_cast<double>(value.as_int().value_or(0)),
            node_label + ",inlet=\"" + label(text(i, "from")) + "\",outcome=\"" + label(outcome) + "\"");
  }
  return m.out.str();
}

}  // namespace

task<control::reply> handle_observability(std::shared_ptr<node_state> s, control::request req) {
  if (!s || !s->main) co_return control::error_reply(503, "the node is stopping");
  if (req.method != "GET") co_return control::error_reply(405, "only GET here");
  control::reply r;
  if (req.path == "/metrics") {
    r.text = prometheus_text(*s);
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (req.path == "/" || req.path == "/index.html") {
    r.text = std::string(status_page_html);
    r.content_type = "text/html; charset=utf-8";
  } else if (req.path == "/status.json") {
    r.body = s->describe();
  } else {
    r = control::error_reply(404, "here: /metrics, /status.json and / (the status page)");
  }
  co_return r;
}

}  // namespace nodus::cli::daemon
