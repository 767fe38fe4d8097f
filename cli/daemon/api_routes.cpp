// The control API's routes: method and path to the service that answers. docs/control-api.md
// lists them with their requests and replies.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <cctype>

#include "node_daemon.hpp"
#include "project.hpp"

namespace nodus::cli::daemon {

namespace {

// `/relays/bob` -> {"relays", "bob"}; the second part percent-decoded (addresses hold '#').
std::pair<std::string, std::string> split_path(const std::string& path) {
  const auto rest = path.size() > 1 ? path.substr(1) : std::string();
  const auto slash = rest.find('/');
  if (slash == std::string::npos) return {rest, {}};
  std::string item;
  const auto encoded = rest.substr(slash + 1);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size() && std::isxdigit(static_cast<unsigned char>(encoded[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(encoded[i + 2]))) {
      item.push_back(static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      item.push_back(encoded[i]);
    }
  }
  return {rest.substr(0, slash), item};
}

control::reply listing(json::value items) { return {200, std::move(items)}; }

}  // namespace

task<control::reply> handle(std::shared_ptr<node_state> s, control::request req) {
  if (!s || !s->main) co_return control::error_reply(503, "the node is stopping");
  const auto parts = split_path(req.path);
  const std::string& collection = parts.first;
  const std::string& item = parts.second;
  const bool get = req.method == "GET", post = req.method == "POST", del = req.method == "DELETE";
  const bool whole = item.empty();

  if (collection == "node" && whole && get) co_return listing(s->describe());
  if (collection == "node" && item == "stop" && post) {
    control::reply r{200, {}};
    r.body["stopping"] = true;
    context* main = s->main;
    r.after_sent = [main] { main->stop_node(); };
    co_return r;
  }
  if (collection == "workers" && whole && get) {
    json::value out = json::array{};
    for (const auto& w : s->main->list_workers()) {
      json::value entry;
      json::value addresses = json::array{};
      for (const auto& a : w.addresses) addresses.push_back(a.to_string());
      entry["addresses"] = std::move(addresses);
      entry["kind"] = w.what == worker_info::kind::worker      ? "worker"
                      : w.what == worker_info::kind::processor ? "processor"
                                                               : "context";
      entry["queued"] = w.queued;
      out.push_back(std::move(entry));
    }
    co_return listing(std::move(out));
  }
  if (collection == "messages" && whole && post) co_return co_await send_message(s, std::move(req.body));
  if (collection == "project") {
    if (whole && get) {
      auto described = project_json(*s);
      if (described.is_null()) co_return control::error_reply(404, "this node has no project");
      co_return listing(std::move(described));
    }
    if (whole && post) co_return co_await create_project(s, std::move(req.body));
    if (!whole) co_return co_await project_item(s, req.method, item, std::move(req.body));
  }

  if (collection == "tcp-listeners") {
    if (whole && get) co_return listing(tcp_listeners_json(*s));
    if (whole && post) co_return co_await create_tcp_listener(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_tcp_listener(s, item);
  }
  if (collection == "tcp-connections") {
    if (whole && get) co_return listing(tcp_connections_json(*s));
    if (whole && post) co_return co_await create_tcp_connection(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_tcp_connection(s, item);
  }
  if (collection == "relays") {
    if (whole && get) co_return listing(relays_json(*s));
    if (whole && post) co_return co_await create_relay(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_relay(s, item);
  }
  if (collection == "secure-channel-listeners") {
    if (whole && get) co_return listing(listeners_json(*s));
    if (whole && post) co_return co_await create_listener(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_listener(s, item);
  }
  if (collection == "secure-channels") {
    if (whole && get) co_return listing(channels_json(*s));
    if (whole && post) co_return co_await create_channel(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_channel(s, item);
  }
  if (collection == "tcp-outlets") {
    if (whole && get) co_return listing(outlets_json(*s));
    if (whole && post) co_return co_await create_outlet(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_outlet(s, item);
  }
  if (collection == "tcp-inlets") {
    if (whole && get) co_return listing(inlets_json(*s));
    if (whole && post) co_return co_await create_inlet(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_inlet(s, item);
  }
  if (collection == "kafka-outlets") {
    if (whole && get) co_return listing(kafka_outlets_json(*s));
    if (whole && post) co_return co_await create_kafka_outlet(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_kafka_outlet(s, item);
  }
  if (collection == "kafka-inlets") {
    if (whole && get) co_return listing(kafka_inlets_json(*s));
    if (whole && post) co_return co_await create_kafka_inlet(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_kafka_inlet(s, item);
  }
  if (collection == "kafka-custodians") {
    if (whole && get) co_return listing(kafka_custodians_json(*s));
    if (whole && post) co_return co_await create_kafka_custodian(s, std::move(req.body));
    if (!whole) co_return co_await kafka_custodian_item(s, req.method, item, std::move(req.body));
  }
  if (collection == "transit-listeners") {
    if (whole && get) co_return listing(transit_listeners_json(*s));
    if (whole && post) co_return co_await create_transit_listener(s, std::move(req.body));
    if (!whole && del) co_return co_await delete_transit_listener(s, item);
  }
  if (collection == "transit-policies") co_return co_await transit_policies(s, req.method, item, std::move(req.body));
  if (collection == "transit-tokens") co_return co_await transit_tokens(s, req.method, item, std::move(req.body));
  co_return control::error_reply(
      404, "no such endpoint: " + req.method + " " + req.path + " (docs/control-api.md lists them)");
}

}  // namespace nodus::cli::daemon
