// A node's project: its authority, or its membership (project.hpp).
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "project.hpp"

#include "nodus/authority/errors.hpp"
#include "nodus/authority/join.hpp"
#include "nodus/authority/membership.hpp"
#include "nodus/authority/ticket.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/worker.hpp"
#include "nodus/relay/relay.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

constexpr const char* authority_key = "authority";
constexpr const char* project_key = "project";
constexpr std::chrono::seconds default_credential_validity{600};
constexpr std::chrono::seconds authority_timeout{10};

auto refused(std::string why) { return nodus::fail(make_error_code(errc::malformed), std::move(why)); }

// The route members reach the authority by: through the node's first TCP listener (or the
// address given), its authority listener, to its worker.
std::string member_route(node_state& s, const std::string& address_given) {
  std::string where = address_given;
  if (where.empty()) {
    std::lock_guard lock(s.mutex);
    if (!s.tcp_listeners.empty()) where = s.tcp_listeners.front();
  }
  return "1#" + where + " => " + authority_listener_address + " => " + authority_worker_address;
}

void set_project(node_state& s, std::shared_ptr<project_state> p) {
  std::lock_guard lock(s.mutex);
  s.project = std::move(p);
}

task<result_or_failure<>> start_authority(context& ctx, std::shared_ptr<node_state> s, const json::value& settings) {
  auto store = authority::member_store::open(s->directory / "authority");
  if (!store) co_return store.error();
  authority::authority_options o{.identity = *s->identity, .store = store.value()};
  auto validity = default_credential_validity;
  if (const auto* v = settings.find("credential_validity_s"); v && v->as_int())
    validity = std::chrono::seconds(*v->as_int());
  o.credential_validity = validity;
  std::vector<std::string> admins;
  if (!text_list_field(settings, "admins", admins)) co_return refused("'admins' must be a list of identifiers");
  o.admins = std::move(admins);
  auto made = authority::authority::create(std::move(o));
  if (!made) co_return made.error();
  auto own = made.value();
  if (auto started = co_await authority::start_authority_worker(ctx, address(authority_worker_address), own); !started)
    co_return nodus::fail(started.error(), "cannot start the authority: " + started.error().message());
  secure_channel::options lo;
  lo.identity = s->channel_identity;
  lo.trust = secure_channel::trust_policy::everyone();  // enrolling identities: the authority decides
  lo.expose = {address(authority_worker_address)};
  auto listener = co_await secure_channel::create_secure_channel_listener(ctx, address(authority_listener_address), lo);
  if (!listener) co_return listener.error();
  for (const auto& l : s->tcp->listeners()) ctx.expose(l.flow, address(authority_listener_address));
  auto p = std::make_shared<project_state>();
  // The route is made when asked for (project show, tickets): the TCP listeners start later.
  p->info = project_info{own->trusted(), s->identity->history().encode(), {}};
  p->route_address = text_field(settings, "address");
  p->own = own;
  p->credential_validity = validity;
  p->credentials = authority::authority_credentials(own);
  set_project(*s, std::move(p));
  ctx.log().info("node {}: the authority of project {} ({} members)", s->name, s->identity->id(),
                 own->store()->members().size());
  co_return ok();
}

task<result_or_failure<>> start_membership(context& ctx, std::shared_ptr<node_state> s, const json::value& project) {
  auto info = project_info::from_json(project);
  if (!info) co_return info.error();
  authority::join_options o{.project = info.value(),
                            .vault = s->keys->directory(),
                            .identity_name = s->identity_name,
                            .me = s->channel_identity,
                            .connect = s->tcp->connector(),
                            .hop = address(authority_hop_address),
                            .timeout = authority_timeout};
  auto joined = co_await authority::join_project(ctx, std::move(o));
  if (!joined) co_return joined.error();
  auto p = std::make_shared<project_state>();
  p->info = std::move(info).value();
  p->keeper = joined.value().keeper;
  p->credentials = joined.value().credentials;
  const auto held = p->keeper->held();
  ctx.log().info("node {}: member of project {} as {}; credential valid until {}", s->name, p->info.authority.id,
                 s->identity->id(), authority::time_text(held.expires_at));
  set_project(*s, std::move(p));
  co_return ok();
}

json::value member_json(const authority::member& m) {
  json::value entry;
  entry["identifier"] = m.id;
  json::value attributes = json::object{};
  for (const auto& [name, value] : m.attributes) attributes[name] = value;
  entry["attributes"] = std::move(attributes);
  entry["added_at"] = iso_time(m.added_at);
  return entry;
}

control::reply refusal(const authority::authority_reply& r) {
  const int code = r.status == authority::authority_status::not_an_administrator ? 403
                   : r.status == authority::authority_status::bad_request        ? 400
                                                                                 : 502;
  return control::error_reply(code, r.reason);
}

// The ticket a local administrator (this node) asks for.
control::reply issue_ticket(node_state& s, project_state& p, const json::value& body) {
  authority::ticket_spec spec;
  if (const auto* attributes = body.find("attributes")) {
    if (!attributes->as_object()) return bad_request("'attributes' must be an object of texts");
    for (const auto& [name, value] : *attributes->as_object()) {
      if (!value.as_string()) return bad_request("attribute '" + name + "' must be a text");
      spec.attributes[name] = *value.as_string();
    }
  }
  spec.relay = text_field(body, "relay");
  if (const auto* n = body.find("usage_count")) {
    if (!n->as_int() || *n->as_int() < 1 || *n->as_int() > authority::max_usage_count)
      return bad_request("'usage_count' must be 1 to 1000000");
    spec.usage_count = static_cast<std::uint32_t>(*n->as_int());
  }
  if (const auto* e = body.find("expires_in_s")) {
    if (!e->as_int()) return bad_request("'expires_in_s' must be a whole number of seconds");
    spec.expires_in = std::chrono::seconds(*e->as_int());
  }
  authority::authority_request request;
  request.op = authority::authority_op::ticket;
  request.ticket = spec;
  auto reply = p.own->answer(s.identity->id(), request);
  if (reply.status != authority::authority_status::ok) return refusal(reply);
  authority::enrollment_ticket t{p.info.authority.id, p.info.history, member_route(s, p.route_address), reply.secret};
  control::reply r{201, {}};
  r.body["ticket"] = authority::ticket_text(t);
  r.body["usage_count"] = spec.usage_count;
  r.body["expires_at"] = iso_time(p.own->now() + spec.expires_in);
  return r;
}

}  // namespace

std::shared_ptr<project_state> project_of(node_state& s) {
  std::lock_guard lock(s.mutex);
  return s.project;
}

std::string project_id_of(node_state& s) {
  auto p = project_of(s);
  return p ? p->info.authority.id : std::string();
}

secure_channel::credential_options credentials_for(node_state& s, const trust_choice& trust) {
  auto p = project_of(s);
  if (!p) return {};
  auto out = p->credentials;
  if (!trust.members) out.verify = nullptr;  // presented, but peers chosen by identifier need none
  return out;
}

task<result_or_failure<>> start_project(context& ctx, std::shared_ptr<node_state> s, const json::value& config) {
  if (const auto* a = config.find(authority_key); a && a->as_object()) co_return co_await start_authority(ctx, s, *a);
  if (const auto* p = config.find(project_key); p && p->as_object()) co_return co_await start_membership(ctx, s, *p);
  co_return ok();
}

task<result<>> start_relay_service(context& ctx, std::shared_ptr<node_state> s) {
  const address at("forwarding_service");
  relay::forwarding_options relays;
  if (auto p = project_of(*s)) {
    relays.members =
        relay::relay_membership{.allow = authority::members_of(p->info.authority), .state_directory = s->directory};
  }
  if (is_served(ctx, at)) {
    ctx.log().info("node {}: the relay service starts again, for the project's members only", s->name);
    (void)co_await ctx.stop_worker(at);
    (void)co_await ctx.stop_worker(address(at.value() + ".sweeper"));  // its processor (forwarding_service.cpp)
  }
  co_return co_await ctx.start_worker(at, relay::forwarding_service(relays));
}

task<control::reply> create_project(std::shared_ptr<node_state> s, json::value body) {
  if (auto p = project_of(*s))
    co_return conflict(p->own ? "this node is already the authority of project " + p->info.authority.id
                              : "this node is a member of project " + p->info.authority.id);
  json::value settings;
  settings["credential_validity_s"] = default_credential_validity.count();
  if (const auto* v = body.find("credential_validity_s")) {
    if (!v->as_int() || *v->as_int() < 1 || *v->as_int() > 366LL * 24 * 3600)
      co_return bad_request("'credential_validity_s' must be 1 s to 366 days");
    settings["credential_validity_s"] = *v->as_int();
  }
  std::vector<std::string> admins;
  if (!text_list_field(body, "admins", admins)) co_return bad_request("'admins' must be a list of identifiers");
  settings["admins"] = json::array{};
  for (const auto& a : admins) settings["admins"].push_back(a);
  if (const auto where = text_field(body, "address"); !where.empty()) settings["address"] = where;
  auto ctx = s->main->new_detached("control.");
  if (auto started = co_await start_authority(ctx, s, settings); !started) co_return failed(started.error().message());
  if (auto relays = co_await start_relay_service(ctx, s); !relays)
    co_return failed("cannot start the relay service for members: " + relays.error().message());
  {
    std::lock_guard lock(s->mutex);
    s->settings[authority_key] = settings;
    s->save();
  }
  co_return control::reply{201, project_json(*s)};
}

json::value project_json(node_state& s) {
  auto p = project_of(s);
  if (!p) return {};
  auto out = p->info.to_json();
  if (p->own) out["authority_route"] = member_route(s, p->route_address);
  out["role"] = p->own ? "authority" : "member";
  if (p->own) {
    out["members"] = p->own->store()->members().size();
  } else if (p->keeper) {
    const auto held = p->keeper->held();
    out["credential_expires_at"] = iso_time(held.expires_at);
    json::value attributes = json::object{};
    for (const auto& [name, value] : held.attributes) attributes[name] = value;
    out["attributes"] = std::move(attributes);
  }
  return out;
}

task<control::reply> project_item(std::shared_ptr<node_state> s, std::string method, std::string item,
                                  json::value body) {
  auto p = project_of(*s);
  if (!p) co_return not_found("this node has no project (nodus project create, or node create --project)");
  if (!p->own)
    co_return conflict("this node is a member of project " + p->info.authority.id +
                       "; tickets and members are managed at its authority");
  if (item == "tickets" && method == "POST") co_return issue_ticket(*s, *p, body);
  if (item == "members" && method == "GET") {
    json::value out = json::array{};
    for (const auto& m : p->own->store()->members()) out.push_back(member_json(m));
    co_return control::reply{200, std::move(out)};
  }
  if (item.starts_with("members/") && method == "DELETE") {
    const auto id = item.substr(std::string_view("members/").size());
    auto deleted = p->own->store()->delete_member(id);
    if (!deleted) co_return failed(deleted.error().message());
    if (!deleted.value()) co_return not_found(id + " is not a member of project " + p->info.authority.id);
    // Its last credential lapses within the validity; every members-only channel end then drops
    // its messages, and its refreshes are refused.
    control::reply r{200, {}};
    r.body["deleted"] = id;
    r.body["refused_within_s"] = p->credential_validity.count();
    co_return r;
  }
  co_return not_found("no such endpoint: " + method + " /project/" + item);
}

}  // namespace nodus::cli::daemon
