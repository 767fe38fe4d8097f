// TCP outlets (this node dials a fixed target for each portal connection that reaches it) and
// TCP inlets (this node accepts TCP clients and carries their bytes to an outlet).
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include "node_daemon.hpp"
#include "nodus/node/extension.hpp"
#include "project.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

json::value stats_json(const portal::portal_stats& stats) {
  json::value out;
  out["connections_open"] = stats.connections_open;
  out["connections_total"] = stats.connections_total;
  out["connections_failed"] = stats.connections_failed;
  out["bytes_in"] = stats.bytes_in;
  out["bytes_out"] = stats.bytes_out;
  return out;
}

// An inlet's way to its outlet when it goes through a secure channel this node makes: one
// channel shared by the inlet's connections, made again when it has closed.
struct channel_to_outlet {
  route via;
  address outlet;
  secure_channel::options options;
  std::shared_ptr<node_state> state;
  std::mutex mutex;
  std::optional<secure_channel::channel> channel;
  address connection;  ///< the TCP connection the channel's route starts with, if it does
};

// The cached channel's route while it can still work: the channel is open, and the TCP
// connection its route was resolved to still exists (after a hub restart the transport makes a
// new connection, and a channel bound to the old one would never deliver again).
std::optional<route> open_route(channel_to_outlet& c, const context& ctx) {
  std::lock_guard lock(c.mutex);
  if (!c.channel || !c.channel->open()) return std::nullopt;
  if (!c.connection.value().empty() && !is_served(ctx, c.connection)) {
    ctx.log().info("tcp inlet: the connection under secure channel {} has gone; making a new channel",
                   c.channel->address());
    c.channel.reset();
    return std::nullopt;
  }
  return route{c.channel->address(), c.outlet};
}

task<result_or_failure<route>> resolve_through_channel(std::shared_ptr<channel_to_outlet> c, context& ctx) {
  if (auto ready = open_route(*c, ctx)) co_return *ready;
  address connection;
  if (const auto& first = c->via.next(); first.type() == tcp_type && c->state->tcp) {
    auto connected = co_await c->state->tcp->connect(first.value());
    if (!connected)
      co_return nodus::fail(connected.error(),
                            "cannot connect to " + first.value() + ": " + connected.error().message());
    connection = connected.value();
  }
  auto options = c->options;
  auto via = c->via;
  auto made = co_await secure_channel::create_secure_channel(ctx, std::move(via), std::move(options));
  if (!made) co_return made.error();
  std::lock_guard lock(c->mutex);
  // Several connections may have made one at once: the first to finish is kept for later ones.
  if (!c->channel || !c->channel->open()) {
    c->channel = made.value();
    c->connection = connection;
  }
  co_return route{made.value().address(), c->outlet};
}

}  // namespace

channel_way channel_resolver_with_reset(std::shared_ptr<node_state> s, route via, address outlet,
                                        const trust_choice& trust) {
  auto c = std::make_shared<channel_to_outlet>();
  c->via = std::move(via);
  c->outlet = std::move(outlet);
  c->options.identity = s->channel_identity;
  c->options.trust = trust.policy();
  c->options.credentials = credentials_for(*s, trust);
  c->state = std::move(s);
  channel_way way;
  way.resolve = [c](context& ctx) { return resolve_through_channel(c, ctx); };
  way.forget = [weak = std::weak_ptr<channel_to_outlet>(c)] {
    if (auto kept = weak.lock()) {
      std::lock_guard lock(kept->mutex);
      kept->channel.reset();
    }
  };
  return way;
}

std::function<task<result_or_failure<route>>(context&)> channel_resolver(std::shared_ptr<node_state> s, route via,
                                                                         address outlet, const trust_choice& trust) {
  return channel_resolver_with_reset(std::move(s), std::move(via), std::move(outlet), trust).resolve;
}

result_or_failure<inlet_way> inlet_way_of(std::shared_ptr<node_state> s, const json::value& body, const route& to) {
  inlet_way way;
  const auto via_text = text_field(body, "via");
  if (via_text.empty()) {
    way.to = to;
    return way;
  }
  auto via = route::parse(via_text);
  if (!via) return nodus::fail(via.error(), "'" + via_text + "' is not a route (" + via.error().message() + ")");
  auto chosen = trust_choice::from_json(body, project_id_of(*s));
  if (!chosen) return chosen.error();
  way.trust = chosen.value();
  if (to.size() != 1)
    return nodus::fail(errc::invalid_route, "with 'via', 'to' is the outlet's address at the far end");
  auto made = channel_resolver_with_reset(std::move(s), std::move(via).value(), to.next(), way.trust);
  way.resolve = std::move(made.resolve);
  way.forget = std::move(made.forget);
  return way;
}

task<control::reply> create_outlet(std::shared_ptr<node_state> s, json::value body) {
  const auto to = text_field(body, "to");
  if (to.empty()) co_return bad_request("'to' (the HOST:PORT the outlet connects to) is required");
  auto at_text = text_field(body, "address");
  if (at_text.empty()) at_text = "outlet";
  auto at = address::parse(at_text);
  if (!at || !at.value().is_local()) co_return bad_request("'" + at_text + "' is not a local address");
  {
    std::lock_guard lock(s->mutex);
    for (const auto& o : s->outlets)
      if (o.at == at.value()) co_return conflict("this node already has a TCP outlet at " + at_text);
  }
  auto allow = policy_field(body, "allow");
  if (!allow) co_return bad_request(allow.error().message());
  portal::outlet_options options;
  options.target = to;
  if (allow.value()) options.access = secure_channel::allowed_by(*allow.value(), "the outlet " + at_text);
  auto ctx = s->main->new_detached("control.");
  auto made = co_await portal::create_tcp_outlet(ctx, at.value(), std::move(options));
  if (!made) co_return failed("cannot create the outlet: " + made.error().message());
  std::lock_guard lock(s->mutex);
  // Reachable through every secure channel listener: their trust policies decide who gets in.
  for (const auto& l : s->listeners) ctx.expose(l.listener.flow(), at.value());
  const auto allow_text = allow.value() ? allow.value()->text() : std::string();
  s->outlets.push_back({at.value(), to, allow_text, made.value()});
  s->save();
  control::reply r{201, {}};
  r.body["address"] = at.value().to_string();
  r.body["to"] = to;
  r.body["allow"] = allow_text;
  co_return r;
}

task<control::reply> delete_outlet(std::shared_ptr<node_state> s, std::string at) {
  address worker;
  {
    std::lock_guard lock(s->mutex);
    auto it = std::find_if(s->outlets.begin(), s->outlets.end(),
                           [&](const outlet_entry& o) { return o.at.to_string() == at; });
    if (it == s->outlets.end()) co_return not_found("no TCP outlet at " + at);
    worker = it->at;
    s->outlets.erase(it);
    s->save();
  }
  auto ctx = s->main->new_detached("control.");
  (void)co_await portal::stop_tcp_outlet(ctx, worker);
  control::reply r{200, {}};
  r.body["deleted"] = at;
  co_return r;
}

json::value outlets_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& o : s.outlets) {
    json::value entry = stats_json(o.outlet->stats());
    entry["address"] = o.at.to_string();
    entry["to"] = o.to;
    out.push_back(std::move(entry));
  }
  return out;
}

task<control::reply> create_inlet(std::shared_ptr<node_state> s, json::value body) {
  const auto from = text_field(body, "from");
  if (from.empty()) co_return bad_request("'from' (the HOST:PORT the inlet listens on) is required");
  auto to = route_field(body, "to");
  if (!to) co_return bad_request(to.error().message());
  const auto via_text = text_field(body, "via");
  auto way = inlet_way_of(s, body, to.value());
  if (!way) co_return bad_request(way.error().message());
  const auto trust = way.value().trust;
  portal::inlet_options options;
  options.bind = from;
  options.to = std::move(way.value().to);
  options.resolve = std::move(way.value().resolve);
  {
    std::lock_guard lock(s->mutex);
    for (const auto& i : s->inlets)
      if (i.from == from) co_return conflict("this node already has a TCP inlet on " + from);
  }
  inlet_entry entry;
  entry.worker = address::random_local("tcp_inlet.");
  auto ctx = s->main->new_detached("control.");
  auto made = co_await portal::create_tcp_inlet(ctx, entry.worker, std::move(options));
  if (!made) co_return failed("cannot create the inlet on " + from + ": " + made.error().message());
  entry.from = made.value().bound();
  entry.to = to.value().to_string();
  entry.via = via_text;
  entry.trust = trust;
  entry.inlet = made.value();
  std::lock_guard lock(s->mutex);
  s->inlets.push_back(entry);
  s->save();
  control::reply r{201, {}};
  r.body["from"] = entry.from;
  r.body["to"] = entry.to;
  r.body["via"] = entry.via;
  co_return r;
}

task<control::reply> delete_inlet(std::shared_ptr<node_state> s, std::string from) {
  address worker;
  {
    std::lock_guard lock(s->mutex);
    auto it = std::find_if(s->inlets.begin(), s->inlets.end(), [&](const inlet_entry& i) { return i.from == from; });
    if (it == s->inlets.end()) co_return not_found("no TCP inlet on " + from);
    worker = it->worker;
    s->inlets.erase(it);
    s->save();
  }
  auto ctx = s->main->new_detached("control.");
  (void)co_await portal::stop_tcp_inlet(ctx, worker);
  control::reply r{200, {}};
  r.body["deleted"] = from;
  co_return r;
}

json::value inlets_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& i : s.inlets) {
    json::value entry = stats_json(i.inlet->stats());
    entry["from"] = i.from;
    entry["to"] = i.to;
    entry["via"] = i.via;
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace nodus::cli::daemon
