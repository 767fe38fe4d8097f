// Relays: this node registers a name at a hub's forwarding service, so that peers who reach the
// hub reach this node's secure channel listeners through `forward_to_<name>`.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include "node_daemon.hpp"
#include "nodus/secure_channel/channel_hop.hpp"
#include "project.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

const char* state_name(relay::relay_status::state s) {
  switch (s) {
    case relay::relay_status::state::registering: return "registering";
    case relay::relay_status::state::registered: return "registered";
    case relay::relay_status::state::retrying: return "retrying";
    case relay::relay_status::state::refused: return "refused";
  }
  return "unknown";
}

json::value relay_json(const relay_entry& r) {
  const auto status = r.client->status();
  json::value entry;
  entry["name"] = r.name;
  entry["at"] = r.at;
  entry["via"] = r.via;
  entry["state"] = state_name(status.now);
  entry["relay"] = status.relay;
  entry["last_error"] = status.last_error;
  entry["registrations"] = status.registrations;
  entry["expose"] = texts(r.client->exposed());
  return entry;
}

}  // namespace

task<control::reply> create_relay(std::shared_ptr<node_state> s, json::value body) {
  const auto name = text_field(body, "name");
  const auto via_text = text_field(body, "via");
  auto at = via_text.empty() ? route_field(body, "at") : route_field(body, "via");
  if (!at) co_return bad_request(at.error().message());
  auto explicit_expose = address_list_field(body, "expose");
  if (!explicit_expose) co_return bad_request(explicit_expose.error().message());
  auto wait_ms = millis_field(body, "timeout_ms", 10'000);
  if (!wait_ms) co_return bad_request(wait_ms.error().message());
  if (!name.empty() && !address::valid_value(name)) co_return bad_request("'" + name + "' is not a relay name");
  relay::relay_client_options options;
  options.service = at.value();
  address hop;
  if (!via_text.empty()) {
    // A members-only hub: register through a secure channel to its listener, kept open (and
    // opened again when the hub restarts) by a hop of the relay's own.
    trust_choice trust;
    if (auto chosen = trust_choice::from_json(body, project_id_of(*s)); chosen)
      trust = chosen.value();
    else
      co_return bad_request(chosen.error().message());
    secure_channel::options o;
    o.identity = s->channel_identity;
    o.trust = trust.policy();
    o.credentials = credentials_for(*s, trust);
    hop = address::random_local("relay_hop.");
    auto ctx = s->main->new_detached("control.");
    if (auto started = co_await ctx.start_worker(
            hop, secure_channel::channel_hop(at.value(), std::move(o), "the hub", s->tcp->connector()));
        !started)
      co_return failed("cannot start the relay's hop: " + started.error().message());
    options.service = route(hop);
  }
  options.service.append(address("forwarding_service"));
  options.name = name;
  options.expose = explicit_expose.value();
  {
    std::lock_guard lock(s->mutex);
    for (const auto& r : s->relays)
      if (!name.empty() && r.name == name) co_return conflict("this node already has a relay named '" + name + "'");
    for (const auto& l : s->listeners)
      if (std::find(options.expose.begin(), options.expose.end(), l.at) == options.expose.end())
        options.expose.push_back(l.at);
  }
  relay_entry entry;
  entry.expose = explicit_expose.value();
  entry.name = name;
  entry.at = via_text.empty() ? at.value().to_string() : std::string();
  entry.via = via_text;
  entry.hop = hop;
  entry.worker = address::random_local("relay_client.");
  entry.client = std::make_shared<relay::relay_client>(std::move(options));
  auto ctx = s->main->new_detached("control.");
  if (auto started = co_await ctx.start_processor_ptr(entry.worker, entry.client); !started)
    co_return failed("cannot start the relay client: " + started.error().message());
  {
    std::lock_guard lock(s->mutex);
    s->relays.push_back(entry);
    s->save();
  }
  const auto* wait = body.find("wait");
  if (wait && wait->as_bool() == false) co_return control::reply{202, relay_json(entry)};
  auto registered = co_await entry.client->registered(ctx, duration(wait_ms.value()));
  if (!registered)
    co_return control::error_reply(
        504, registered.error().message() + " (the relay keeps trying; `nodus relay delete` stops it)");
  if (entry.name.empty()) {
    // The hub picked the name: keep it, so the relay has the same address after a restart.
    const auto& relay = registered.value().relay;
    std::lock_guard lock(s->mutex);
    for (auto& r : s->relays)
      if (r.worker == entry.worker) r.name = relay.substr(std::min(relay.size(), relay::relay_prefix.size()));
    s->save();
  }
  std::lock_guard lock(s->mutex);
  for (const auto& r : s->relays)
    if (r.worker == entry.worker) co_return control::reply{201, relay_json(r)};
  co_return not_found("the relay was deleted meanwhile");
}

task<control::reply> delete_relay(std::shared_ptr<node_state> s, std::string name) {
  address worker, hop;
  {
    std::lock_guard lock(s->mutex);
    auto it = std::find_if(s->relays.begin(), s->relays.end(), [&](const relay_entry& r) { return r.name == name; });
    if (it == s->relays.end()) co_return not_found("no relay named '" + name + "' on this node");
    worker = it->worker;
    hop = it->hop;
    s->relays.erase(it);
    s->save();
  }
  auto ctx = s->main->new_detached("control.");
  (void)co_await ctx.stop_worker(worker);
  if (!hop.value().empty()) (void)co_await ctx.stop_worker(hop);
  control::reply r{200, {}};
  r.body["deleted"] = name;
  co_return r;
}

json::value relays_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& r : s.relays) out.push_back(relay_json(r));
  return out;
}

}  // namespace nodus::cli::daemon
