// The running node's state as node.json keeps it and as `node show` prints it, and its
// restoration at start.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <unistd.h>

#include "../home.hpp"
#include "node_daemon.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

constexpr const char* tcp_listeners_key = "tcp_listeners";
constexpr const char* relays_key = "relays";
constexpr const char* listeners_key = "secure_channel_listeners";
constexpr const char* outlets_key = "tcp_outlets";
constexpr const char* inlets_key = "tcp_inlets";
constexpr const char* kafka_outlets_key = "kafka_outlets";
constexpr const char* kafka_inlets_key = "kafka_inlets";
constexpr const char* kafka_custodians_key = "kafka_custodians";
constexpr const char* transit_listeners_key = "transit_listeners";

}  // namespace

json::value node_state::config() const {
  json::value out = settings;
  json::value services;
  json::value tcp = json::array{};
  for (std::size_t i = 0; i < tcp_listeners.size(); ++i) {
    json::value entry;
    entry["address"] = tcp_listeners[i];
    entry["expose"] = texts(tcp_listener_expose[i]);
    tcp.push_back(std::move(entry));
  }
  json::value relay_list = json::array{};
  for (const auto& r : relays) {
    json::value entry;
    entry["name"] = r.name;
    entry["at"] = r.at;
    if (!r.via.empty()) entry["via"] = r.via;
    entry["expose"] = texts(r.expose);
    relay_list.push_back(std::move(entry));
  }
  json::value listener_list = json::array{};
  for (const auto& l : listeners) {
    json::value entry = l.trust.to_json();
    entry["address"] = l.at.to_string();
    entry["expose"] = texts(l.expose);
    listener_list.push_back(std::move(entry));
  }
  json::value outlet_list = json::array{};
  for (const auto& o : outlets) {
    json::value entry;
    entry["address"] = o.at.to_string();
    entry["to"] = o.to;
    if (!o.allow.empty()) entry["allow"] = o.allow;
    outlet_list.push_back(std::move(entry));
  }
  json::value inlet_list = json::array{};
  for (const auto& i : inlets) {
    json::value entry = i.trust.to_json();
    entry["from"] = i.from;
    entry["to"] = i.to;
    entry["via"] = i.via;
    inlet_list.push_back(std::move(entry));
  }
  services[tcp_listeners_key] = std::move(tcp);
  services[relays_key] = std::move(relay_list);
  services[listeners_key] = std::move(listener_list);
  services[outlets_key] = std::move(outlet_list);
  services[inlets_key] = std::move(inlet_list);
  json::value kafka_outlet_list = json::array{};
  for (const auto& o : kafka_outlets) {
    json::value entry;
    entry["address"] = o.at.to_string();
    entry["bootstrap_server"] = o.bootstrap;
    if (!o.allow.empty()) entry["allow"] = o.allow;
    kafka_outlet_list.push_back(std::move(entry));
  }
  services[kafka_outlets_key] = std::move(kafka_outlet_list);
  json::value kafka_inlet_list = json::array{};
  for (const auto& i : kafka_inlets) {
    json::value entry = i.trust.to_json();
    entry["from"] = i.from;
    entry["to"] = i.to;
    entry["via"] = i.via;
    entry["brokers_port_range"] = std::to_string(i.first_port) + "-" + std::to_string(i.last_port);
    entry["capture"] = i.capture;
    if (!i.protection.is_null()) entry["protection"] = i.protection;
    kafka_inlet_list.push_back(std::move(entry));
  }
  services[kafka_inlets_key] = std::move(kafka_inlet_list);
  json::value custodian_list = json::array{};
  for (const auto& c : kafka_custodians) custodian_list.push_back(kafka_custodian_config(c));
  services[kafka_custodians_key] = std::move(custodian_list);
  json::value transit_list = json::array{};
  for (const auto& l : transit_listeners) transit_list.push_back(transit_listener_config(l));
  services[transit_listeners_key] = std::move(transit_list);
  for (const auto& u : not_restored) services[u.kind].push_back(u.entry);
  out["services"] = std::move(services);
  return out;
}

void node_state::save() {
  if (restoring || !main) return;
  if (auto written = write_json_file(directory / "node.json", config()); !written)
    main->log().error("node {}: its services would not be restored: {}", name, written.error().message());
}

json::value node_state::describe() {
  json::value out;
  out["name"] = name;
  out["pid"] = static_cast<long long>(::getpid());
  out["identity"] = identity_name;
  out["identifier"] = identity->id();
  out["started_at"] = iso_time(started_at);
  out["api"] = api ? api->where() : std::string();
  if (api_tcp) out["api_tcp"] = api_tcp->where();
  if (metrics) out["metrics"] = metrics->where();
  out["workers"] = main ? main->list_workers().size() : 0;
  out["tcp_listeners"] = tcp_listeners_json(*this);
  out["tcp_connections"] = tcp_connections_json(*this);
  if (tcp) {
    const auto counted = tcp->stats();
    json::value t;
    t["bytes_in"] = counted.bytes_in;
    t["bytes_out"] = counted.bytes_out;
    t["messages_in"] = counted.messages_in;
    t["messages_out"] = counted.messages_out;
    t["connections_accepted"] = counted.connections_accepted;
    t["connections_dialled"] = counted.connections_dialled;
    out["tcp"] = std::move(t);
  }
  out["relays"] = relays_json(*this);
  out["secure_channel_listeners"] = listeners_json(*this);
  out["secure_channels"] = channels_json(*this);
  out["tcp_outlets"] = outlets_json(*this);
  out["tcp_inlets"] = inlets_json(*this);
  out["kafka_outlets"] = kafka_outlets_json(*this);
  out["kafka_inlets"] = kafka_inlets_json(*this);
  out["kafka_custodians"] = kafka_custodians_json(*this);
  out["transit_listeners"] = transit_listeners_json(*this);
  json::value pending = json::array{};
  {
    std::lock_guard lock(mutex);
    for (const auto& u : not_restored) {
      json::value item;
      item["kind"] = u.kind;
      item["config"] = u.entry;
      item["error"] = u.error;
      pending.push_back(std::move(item));
    }
  }
  out["not_restored"] = std::move(pending);
  return out;
}

namespace {

using creator = task<control::reply> (*)(std::shared_ptr<node_state>, json::value);

// One kind of service, in the order they must start again: listeners before what exposes them.
task<void> restore_kind(std::shared_ptr<node_state> s, json::value services, std::string kind, creator create) {
  const auto* list = services.find(kind);
  if (!list || !list->as_array()) co_return;
  for (const auto& entry : *list->as_array()) {
    json::value body = entry;
    if (kind == relays_key) body["wait"] = false;  // a hub that is down must not hold the start
    auto answer = co_await create(s, body);
    if (answer.status < 300) continue;
    const auto* error = answer.body.find("error");
    const std::string why = error && error->as_string() ? *error->as_string() : std::string("?");
    s->main->log().error("node {}: could not restore a {} entry {}: {}", s->name, kind, json::dump(entry), why);
    std::lock_guard lock(s->mutex);
    s->not_restored.push_back({kind, entry, why});
  }
}

}  // namespace

task<void> restore_services(std::shared_ptr<node_state> s, json::value services) {
  s->restoring = true;
  co_await restore_kind(s, services, listeners_key, &create_listener);
  co_await restore_kind(s, services, outlets_key, &create_outlet);
  co_await restore_kind(s, services, kafka_outlets_key, &create_kafka_outlet);
  // Before the inlets: a consumer's inlet may use its node's own custodian.
  co_await restore_kind(s, services, kafka_custodians_key, &create_kafka_custodian);
  co_await restore_kind(s, services, transit_listeners_key, &create_transit_listener);
  co_await restore_kind(s, services, tcp_listeners_key, &create_tcp_listener);
  co_await restore_kind(s, services, relays_key, &create_relay);
  co_await restore_kind(s, services, inlets_key, &create_inlet);
  co_await restore_kind(s, services, kafka_inlets_key, &create_kafka_inlet);
  s->restoring = false;
  std::lock_guard lock(s->mutex);
  s->save();
}

}  // namespace nodus::cli::daemon
