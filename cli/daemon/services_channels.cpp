// Secure channel listeners (this node answers handshakes) and secure channels (this node starts
// them), with the node's identity.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include "node_daemon.hpp"
#include "project.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

secure_channel::trust_policy trust_choice::policy() const {
  if (members) return secure_channel::trust_policy::allowing(policy::policy::attribute_equals("project", project));
  if (everyone) return secure_channel::trust_policy::everyone();
  if (authorized.size() == 1) return secure_channel::trust_policy::identifier(authorized.front());
  return secure_channel::trust_policy::any_of(authorized);
}

json::value trust_choice::to_json() const {
  json::value out;
  json::value ids = json::array{};
  for (const auto& id : authorized) ids.push_back(id);
  out["authorized"] = std::move(ids);
  out["trust_everyone"] = everyone;
  out["trust_members"] = members;
  return out;
}

result_or_failure<trust_choice> trust_choice::from_json(const json::value& v, const std::string& project) {
  trust_choice out;
  if (!text_list_field(v, "authorized", out.authorized))
    return nodus::fail(make_error_code(errc::malformed), "'authorized' must be a list of identifiers");
  const auto* everyone = v.find("trust_everyone");
  out.everyone = everyone && everyone->as_bool().value_or(false);
  const auto* members = v.find("trust_members");
  out.members = members && members->as_bool().value_or(false);
  if (out.members && project.empty())
    return nodus::fail(make_error_code(errc::malformed),
                       "trust_members needs a project: this node has none (nodus project create, or node create "
                       "--project)");
  if (!out.members && !out.everyone && out.authorized.empty() && !project.empty()) out.members = true;
  if (out.members) {
    if (out.everyone || !out.authorized.empty())
      return nodus::fail(make_error_code(errc::malformed),
                         "give one trust choice: the project's members, authorized identifiers or trust_everyone");
    out.project = project;
    return out;
  }
  for (const auto& id : out.authorized)
    if (id.size() != 41 || id[0] != 'I' ||
        !std::all_of(id.begin() + 1, id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      return nodus::fail(make_error_code(errc::malformed),
                         "'" + id + "' is not an identifier (I and 40 hex digits, as `nodus node show` prints)");
  if (out.everyone == !out.authorized.empty())
    return nodus::fail(make_error_code(errc::malformed),
                       out.everyone ? "give either authorized identifiers or trust_everyone, not both"
                                    : "a trust choice is required: authorized identifiers (--authorized ID), "
                                      "trust_everyone (--trust-everyone), or a project whose members are trusted "
                                      "(node create --project)");
  return out;
}

namespace {

std::vector<address> listener_exposure(node_state& s, std::vector<address> explicit_ones) {
  std::vector<address> out = std::move(explicit_ones);
  const address echoer("echoer");
  if (std::find(out.begin(), out.end(), echoer) == out.end()) out.push_back(echoer);
  std::lock_guard lock(s.mutex);
  for (const auto& o : s.outlets)
    if (std::find(out.begin(), out.end(), o.at) == out.end()) out.push_back(o.at);
  for (const auto& c : s.kafka_custodians) out.push_back(c.at);
  // With a project the relay service is for members, who register through a secure channel.
  if (s.project) out.emplace_back("forwarding_service");
  for (const auto& o : s.kafka_outlets) {
    out.push_back(o.at);
    if (s.main)  // and the outlets it opened for brokers (the ones opened later copy its exposure)
      for (auto& b : kafka_portal::outlet_brokers(*s.main, o.at)) out.push_back(std::move(b));
  }
  return out;
}

json::value stats_json(const secure_channel::channel& c, bool initiator) {
  const auto stats = c.stats();
  json::value entry;
  entry["address"] = c.address().to_string();
  entry["peer"] = c.peer();
  entry["open"] = c.open();
  entry["initiator"] = initiator;
  entry["sent"] = stats.sent;
  entry["delivered"] = stats.delivered;
  entry["duplicates_dropped"] = stats.duplicates_dropped;
  entry["rejected"] = stats.rejected;
  entry["missing"] = stats.missing;
  return entry;
}

}  // namespace

task<control::reply> create_listener(std::shared_ptr<node_state> s, json::value body) {
  const auto at_text = text_field(body, "address");
  if (at_text.empty()) co_return bad_request("'address' (the listener's name, e.g. listener) is required");
  auto at = address::parse(at_text);
  if (!at || !at.value().is_local()) co_return bad_request("'" + at_text + "' is not a local address");
  auto trust = trust_choice::from_json(body, project_id_of(*s));
  if (!trust) co_return bad_request(trust.error().message());
  auto explicit_expose = address_list_field(body, "expose");
  if (!explicit_expose) co_return bad_request(explicit_expose.error().message());
  {
    std::lock_guard lock(s->mutex);
    for (const auto& l : s->listeners)
      if (l.at == at.value()) co_return conflict("this node already has a secure channel listener at " + at_text);
  }
  secure_channel::options o;
  o.identity = s->channel_identity;
  o.trust = trust.value().policy();
  o.credentials = credentials_for(*s, trust.value());
  o.expose = listener_exposure(*s, explicit_expose.value());
  auto ctx = s->main->new_detached("control.");
  auto made = co_await secure_channel::create_secure_channel_listener(ctx, at.value(), std::move(o));
  if (!made) co_return failed("cannot start the secure channel listener: " + made.error().message());
  // Reachable through every TCP listener and relay of the node, now and later.
  for (const auto& l : s->tcp->listeners()) ctx.expose(l.flow, at.value());
  std::lock_guard lock(s->mutex);
  for (const auto& r : s->relays)
    if (r.expose_listeners) r.client->expose(ctx, at.value());
  s->listeners.push_back({at.value(), trust.value(), explicit_expose.value(), made.value()});
  s->save();
  control::reply r{201, {}};
  r.body["address"] = at.value().to_string();
  r.body["identifier"] = s->identity->id();
  co_return r;
}

task<control::reply> delete_listener(std::shared_ptr<node_state> s, std::string at) {
  {
    std::lock_guard lock(s->mutex);
    auto it = std::find_if(s->listeners.begin(), s->listeners.end(),
                           [&](const listener_entry& l) { return l.at.to_string() == at; });
    if (it == s->listeners.end()) co_return not_found("no secure channel listener at " + at);
    s->listeners.erase(it);
    s->save();
  }
  auto ctx = s->main->new_detached("control.");
  (void)co_await ctx.stop_worker(address::parse(at).value());  // valid: it matched a listener's address
  control::reply r{200, {}};
  r.body["deleted"] = at;
  co_return r;
}

json::value listeners_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& l : s.listeners) {
    json::value entry = l.trust.to_json();
    entry["address"] = l.at.to_string();
    entry["expose"] = texts(l.expose);
    entry["channels"] = l.listener.channels().size();
    out.push_back(std::move(entry));
  }
  return out;
}

task<control::reply> create_channel(std::shared_ptr<node_state> s, json::value body) {
  auto to = route_field(body, "to");
  if (!to) co_return bad_request(to.error().message());
  auto trust = trust_choice::from_json(body, project_id_of(*s));
  if (!trust) co_return bad_request(trust.error().message());
  auto timeout_ms = millis_field(body, "timeout_ms", 30'000);
  if (!timeout_ms) co_return bad_request(timeout_ms.error().message());
  secure_channel::options o;
  o.identity = s->channel_identity;
  if (const auto name = text_field(body, "identity"); !name.empty() && name != s->identity_name) {
    vault::identity_store identities(s->keys);
    auto other = identities.load(name);
    if (!other) co_return not_found("identity '" + name + "': " + other.error().message());
    auto ready = secure_channel::channel_identity::create(other.value());
    if (!ready) co_return failed(ready.error().message());
    o.identity = ready.value();
  }
  o.trust = trust.value().policy();
  o.credentials = credentials_for(*s, trust.value());
  o.handshake_timeout = std::chrono::milliseconds(timeout_ms.value());
  const auto route_text = to.value().to_string();
  if (const auto& first = to.value().next(); first.type() == tcp_type) {
    auto connected = co_await s->tcp->connect(first.value());
    if (!connected) co_return failed("cannot connect to " + first.value() + ": " + connected.error().message());
  }
  auto ctx = s->main->new_detached("control.");
  auto made = co_await secure_channel::create_secure_channel(ctx, std::move(to).value(), std::move(o));
  if (!made) co_return failed("secure channel to " + route_text + ": " + made.error().message());
  std::lock_guard lock(s->mutex);
  s->channels.push_back({made.value().address(), route_text, made.value()});
  control::reply r{201, stats_json(made.value(), true)};
  r.body["to"] = route_text;
  co_return r;
}

task<control::reply> delete_channel(std::shared_ptr<node_state> s, std::string at) {
  auto channel_address = address::parse(at);
  if (!channel_address) co_return bad_request("'" + at + "' is not an address");
  auto ctx = s->main->new_detached("control.");
  auto closed = co_await secure_channel::close_secure_channel(ctx, channel_address.value());
  if (!closed) co_return not_found("no open secure channel at " + at);
  std::lock_guard lock(s->mutex);
  std::erase_if(s->channels, [&](const channel_entry& c) { return c.at.to_string() == at; });
  control::reply r{200, {}};
  r.body["deleted"] = at;
  co_return r;
}

json::value channels_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& c : s.channels) {
    auto entry = stats_json(c.channel, true);
    entry["to"] = c.to;
    out.push_back(std::move(entry));
  }
  for (const auto& l : s.listeners)
    for (const auto& c : l.listener.channels()) {
      auto entry = stats_json(c, false);
      entry["listener"] = l.at.to_string();
      out.push_back(std::move(entry));
    }
  return out;
}

}  // namespace nodus::cli::daemon
