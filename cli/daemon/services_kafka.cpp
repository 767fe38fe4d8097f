// Kafka outlets (this node reaches the brokers; nodus::kafka_portal) and Kafka inlets (this node
// accepts Kafka clients and carries their traffic to an outlet): kafka-outlet, kafka-inlet,
// kafka-consumer and kafka-producer create.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>
#include <charconv>

#include "node_daemon.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

// "4001-4100" as two ports; empty: (0, 0), the library's default.
result_or_failure<std::pair<std::uint16_t, std::uint16_t>> port_range(const std::string& text) {
  if (text.empty() || text == "0-0") return std::pair<std::uint16_t, std::uint16_t>{0, 0};
  const auto dash = text.find('-');
  unsigned first = 0, last = 0;
  const auto* end = text.data() + text.size();
  const bool read = dash != std::string::npos &&
                    std::from_chars(text.data(), text.data() + dash, first).ptr == text.data() + dash &&
                    std::from_chars(text.data() + dash + 1, end, last).ptr == end;
  if (!read || first == 0 || last > 65535 || first > last)
    return nodus::fail(std::make_error_code(std::errc::invalid_argument),
                       "'" + text + "' is not a port range FIRST-LAST (e.g. 4001-4100)");
  return std::pair<std::uint16_t, std::uint16_t>{static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

}  // namespace

task<control::reply> create_kafka_outlet(std::shared_ptr<node_state> s, json::value body) {
  const auto bootstrap = text_field(body, "bootstrap_server");
  if (bootstrap.empty()) co_return bad_request("'bootstrap_server' (a broker's HOST:PORT) is required");
  auto at_text = text_field(body, "address");
  if (at_text.empty()) at_text = "kafka_outlet";
  auto at = address::parse(at_text);
  if (!at || !at.value().is_local()) co_return bad_request("'" + at_text + "' is not a local address");
  {
    std::lock_guard lock(s->mutex);
    for (const auto& o : s->kafka_outlets)
      if (o.at == at.value()) co_return conflict("this node already has a Kafka outlet at " + at_text);
  }
  auto allow = policy_field(body, "allow");
  if (!allow) co_return bad_request(allow.error().message());
  kafka_portal::outlet_options options{.bootstrap_server = bootstrap};
  if (allow.value()) options.portal.access = secure_channel::allowed_by(*allow.value(), "the Kafka outlet " + at_text);
  auto ctx = s->main->new_detached("control.");
  auto made = co_await kafka_portal::create_kafka_outlet(ctx, at.value(), std::move(options));
  if (!made) co_return failed("cannot create the Kafka outlet: " + made.error().message());
  std::lock_guard lock(s->mutex);
  // Reachable through every secure channel listener, as TCP outlets are; the broker outlets it
  // opens later are exposed to the same flows.
  for (const auto& l : s->listeners) ctx.expose(l.listener.flow(), at.value());
  const auto allow_text = allow.value() ? allow.value()->text() : std::string();
  s->kafka_outlets.push_back({at.value(), bootstrap, allow_text, made.value()});
  s->save();
  control::reply r{201, {}};
  r.body["address"] = at.value().to_string();
  r.body["bootstrap_server"] = bootstrap;
  r.body["allow"] = allow_text;
  co_return r;
}

task<control::reply> delete_kafka_outlet(std::shared_ptr<node_state> s, std::string at) {
  address worker;
  {
    std::lock_guard lock(s->mutex);
    auto it = std::find_if(s->kafka_outlets.begin(), s->kafka_outlets.end(),
                           [&](const kafka_outlet_entry& o) { return o.at.to_string() == at; });
    if (it == s->kafka_outlets.end()) co_return not_found("no Kafka outlet at " + at);
    worker = it->at;
    s->kafka_outlets.erase(it);
    s->save();
  }
  auto ctx = s->main->new_detached("control.");
  (void)co_await kafka_portal::stop_kafka_outlet(ctx, worker);
  control::reply r{200, {}};
  r.body["deleted"] = at;
  co_return r;
}

json::value kafka_outlets_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& o : s.kafka_outlets) {
    json::value entry;
    entry["address"] = o.at.to_string();
    entry["bootstrap_server"] = o.bootstrap;
    const auto stats = o.outlet->stats();
    entry["connections_open"] = stats.connections_open;
    entry["connections_total"] = stats.connections_total;
    json::value brokers = json::array{};
    if (s.main)
      for (const auto& b : kafka_portal::outlet_brokers(*s.main, o.at)) brokers.push_back(b.to_string());
    entry["broker_outlets"] = std::move(brokers);
    out.push_back(std::move(entry));
  }
  return out;
}

task<control::reply> create_kafka_inlet(std::shared_ptr<node_state> s, json::value body) {
  const auto from = text_field(body, "from");
  if (from.empty()) co_return bad_request("'from' (the HOST:PORT clients bootstrap from) is required");
  auto to = route_field(body, "to");
  if (!to) co_return bad_request(to.error().message());
  auto range = port_range(text_field(body, "brokers_port_range"));
  if (!range) co_return bad_request(range.error().message());
  const auto via_text = text_field(body, "via");
  auto way = inlet_way_of(s, body, to.value());
  if (!way) co_return bad_request(way.error().message());
  kafka_inlet_entry entry;
  entry.trust = way.value().trust;
  kafka_portal::inlet_options options;
  options.bind = from;
  options.first_broker_port = range.value().first;
  options.last_broker_port = range.value().second;
  options.capture_path = text_field(body, "capture");
  options.to = std::move(way.value().to);
  options.resolve = std::move(way.value().resolve);
  if (const auto* protection = body.find("protection"); protection && !protection->is_null()) {
    auto set_up = co_await protection_of(s, *protection);
    if (!set_up) co_return bad_request("'protection': " + set_up.error().message());
    options.protection = std::move(set_up.value().options);
    entry.protection = std::move(set_up.value().saved);
  }
  {
    std::lock_guard lock(s->mutex);
    for (const auto& i : s->kafka_inlets)
      if (i.from == from) co_return conflict("this node already has a Kafka inlet on " + from);
  }
  entry.worker = address::random_local("kafka_inlet.");
  entry.first_port = options.first_broker_port;
  entry.last_port = options.last_broker_port;
  entry.capture = options.capture_path;
  auto ctx = s->main->new_detached("control.");
  auto made = co_await kafka_portal::create_kafka_inlet(ctx, entry.worker, std::move(options));
  if (!made) co_return failed("cannot create the Kafka inlet on " + from + ": " + made.error().message());
  entry.from = made.value().bound();
  entry.to = to.value().to_string();
  entry.via = via_text;
  std::lock_guard lock(s->mutex);
  s->kafka_inlets.push_back(entry);
  s->save();
  control::reply r{201, {}};
  r.body["from"] = entry.from;
  r.body["to"] = entry.to;
  r.body["via"] = entry.via;
  co_return r;
}

task<control::reply> delete_kafka_inlet(std::shared_ptr<node_state> s, std::string from) {
  address worker;
  {
    std::lock_guard lock(s->mutex);
    auto it = std::find_if(s->kafka_inlets.begin(), s->kafka_inlets.end(),
                           [&](const kafka_inlet_entry& i) { return i.from == from; });
    if (it == s->kafka_inlets.end()) co_return not_found("no Kafka inlet on " + from);
    worker = it->worker;
    s->kafka_inlets.erase(it);
    s->save();
  }
  auto ctx = s->main->new_detached("control.");
  (void)co_await kafka_portal::stop_kafka_inlet(ctx, worker);
  control::reply r{200, {}};
  r.body["deleted"] = from;
  co_return r;
}

json::value kafka_inlets_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& i : s.kafka_inlets) {
    json::value entry;
    entry["from"] = i.from;
    entry["to"] = i.to;
    entry["via"] = i.via;
    entry["brokers_port_range"] = std::to_string(i.first_port) + "-" + std::to_string(i.last_port);
    if (!i.capture.empty()) entry["capture"] = i.capture;
    if (!i.protection.is_null()) {
      json::value p = i.protection;
      if (s.main) {
        const auto stats = kafka_portal::inlet_protection_stats(*s.main, i.worker);
        json::value counts;
        counts["sealed"] = stats.sealed;
        counts["produce_refused"] = stats.produce_refused;
        counts["opened"] = stats.opened;
        counts["plaintext"] = stats.plaintext;
        counts["undecryptable"] = stats.undecryptable;
        counts["skipped"] = stats.skipped;
        counts["tagged"] = stats.tagged;
        counts["failed_partitions"] = stats.failed_partitions;
        counts["gaps"] = stats.gaps;
        counts["missing"] = stats.missing;
        counts["replays"] = stats.replays;
        p["counts"] = std::move(counts);
      }
      entry["protection"] = std::move(p);
    }
    json::value brokers = json::array{};
    if (s.main)
      for (const auto& b : kafka_portal::inlet_brokers(*s.main, i.worker)) {
        json::value broker;
        broker["node_id"] = b.node_id;
        broker["broker"] = b.broker;
        broker["local"] = b.local;
        brokers.push_back(std::move(broker));
      }
    entry["brokers"] = std::move(brokers);
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace nodus::cli::daemon
