// The transit service (transit-listeners, transit-policies, transit-tokens; nodus::transit,
// docs/transit.md): Vault-transit-compatible encryption as a service, its keys in the node's
// vault, its state in transit-keys.json, transit-tokens.json and transit-transforms.json in the
// node's directory.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include "node_daemon.hpp"
#include "nodus/transit/transform.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {
namespace {

namespace tr = transit;

// The keyring and token store, opened on first use.
struct transit_stores {
  std::shared_ptr<tr::keyring> keys;
  std::shared_ptr<tr::token_store> tokens;
  std::shared_ptr<const tr::service> api;
};
result_or_failure<transit_stores> stores(node_state& s) {
  std::lock_guard lock(s.mutex);
  if (!s.transit_api) {
    auto keys = tr::keyring::open(s.keys, s.directory / "transit-keys.json");
    if (!keys) return keys.error();
    auto tokens = tr::token_store::open(s.directory / "transit-tokens.json");
    if (!tokens) return tokens.error();
    auto transforms = tr::transformations::open(s.keys, s.directory / "transit-transforms.json");
    if (!transforms) return transforms.error();
    s.transit_api = std::make_shared<const tr::service>(
        tr::service_options{keys.value(), tokens.value(), transforms.value(), &s.main->log()});
  }
  return transit_stores{s.transit_api->options().keys, s.transit_api->options().tokens, s.transit_api};
}

json::value listener_json(const transit_listener_entry& l) {
  json::value out;
  out["listen"] = l.listen;
  out["address"] = l.server ? l.server->where() : l.listen;
  out["url"] = std::string(l.tls ? "https://" : "http://") + (l.server ? l.server->where() : l.listen);
  if (l.tls) {
    out["tls_certificate"] = l.tls->certificate.string();
    out["tls_key"] = l.tls->private_key.string();
  }
  return out;
}

json::value policy_json(const tr::policy& p) {
  json::value out;
  out["name"] = p.name;
  out["rules"] = json::array{};
  for (const auto& r : p.rules) out["rules"].push_back(tr::rule_text(r));
  return out;
}

json::value token_json(const tr::token_info& t) {
  json::value out;
  out["accessor"] = t.accessor;
  out["display_name"] = t.display_name;
  out["policies"] = json::array{};
  for (const auto& p : t.policies) out["policies"].push_back(p);
  out["created"] = iso_time(t.created);
  out["expires"] = t.expires ? json::value(iso_time(*t.expires)) : json::value("never");
  return out;
}

control::reply failure_reply(const failure& f) {
  if (f.code == tr::transit_errc::invalid_request) return bad_request(f.message());
  if (f.code == tr::transit_errc::key_not_found) return not_found(f.message());
  return control::error_reply(500, f.message());
}

}  // namespace

json::value transit_listener_config(const transit_listener_entry& l) {
  json::value out;
  // A port 0 is saved as the port it got, so that clients find it again after a restart.
  out["listen"] = l.server ? l.server->where() : l.listen;
  if (l.tls) {
    out["tls_certificate"] = l.tls->certificate.string();
    out["tls_key"] = l.tls->private_key.string();
  }
  return out;
}

task<control::reply> create_transit_listener(std::shared_ptr<node_state> s, json::value body) {
  auto listen = text_field(body, "listen");
  if (listen.empty()) listen = "127.0.0.1:8200";
  const auto cert = text_field(body, "tls_certificate"), key = text_field(body, "tls_key");
  if (cert.empty() != key.empty()) co_return bad_request("give both 'tls_certificate' and 'tls_key', or neither");
  auto opened = stores(*s);
  if (!opened) co_return failed("cannot open the transit service's state: " + opened.error().message());
  tr::server_options options{.listen = listen};
  if (!cert.empty()) options.tls = tr::tls_files{std::filesystem::absolute(cert), std::filesystem::absolute(key)};
  auto ctx = s->main->new_detached("control.");
  auto served = tr::serve(ctx, opened.value().api, options);
  if (!served) co_return bad_request(served.error().message());
  std::lock_guard lock(s->mutex);
  s->transit_listeners.push_back({listen, options.tls, served.value()});
  s->save();
  s->main->log().info("node {}: transit service on {}{}", s->name, served.value()->where(),
                      options.tls ? " (TLS)" : "");
  co_return control::reply{201, listener_json(s->transit_listeners.back())};
}

task<control::reply> delete_transit_listener(std::shared_ptr<node_state> s, std::string where) {
  std::lock_guard lock(s->mutex);
  auto it = std::find_if(s->transit_listeners.begin(), s->transit_listeners.end(),
                         [&](const auto& l) { return l.listen == where || (l.server && l.server->where() == where); });
  if (it == s->transit_listeners.end()) co_return not_found("no transit listener on " + where);
  if (it->server) it->server->close();
  s->transit_listeners.erase(it);
  s->save();
  control::reply r{200, {}};
  r.body["deleted"] = where;
  co_return r;
}

json::value transit_listeners_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& l : s.transit_listeners) out.push_back(listener_json(l));
  return out;
}

task<control::reply> transit_policies(std::shared_ptr<node_state> s, std::string method, std::string item,
                                      json::value body) {
  auto opened = stores(*s);
  if (!opened) co_return failed("cannot open the transit service's state: " + opened.error().message());
  auto& tokens = *opened.value().tokens;
  if (item.empty() && method == "GET") {
    json::value out = json::array{};
    for (const auto& p : tokens.policies()) out.push_back(policy_json(p));
    co_return control::reply{200, std::move(out)};
  }
  if (item.empty() && method == "POST") {
    tr::policy p{text_field(body, "name"), {}};
    std::vector<std::string> rules;
    if (!text_list_field(body, "rules", rules) || rules.empty())
      co_return bad_request("'rules' must be a non-empty list of KEYS:OPERATIONS (e.g. 'purchases:encrypt')");
    for (const auto& r : rules) {
      auto rule = tr::parse_rule(r);
      if (!rule) co_return bad_request(rule.error().message());
      p.rules.push_back(std::move(rule).value());
    }
    if (auto written = tokens.write_policy(p); !written) co_return failure_reply(written.error());
    co_return control::reply{201, policy_json(p)};
  }
  if (!item.empty() && method == "DELETE") {
    if (auto deleted = tokens.delete_policy(item); !deleted) co_return failure_reply(deleted.error());
    control::reply r{200, {}};
    r.body["deleted"] = item;
    co_return r;
  }
  co_return control::error_reply(405, "no such endpoint: " + method + " /transit-policies/" + item);
}

task<control::reply> transit_tokens(std::shared_ptr<node_state> s, std::string method, std::string item,
                                    json::value body) {
  auto opened = stores(*s);
  if (!opened) co_return failed("cannot open the transit service's state: " + opened.error().message());
  auto& tokens = *opened.value().tokens;
  if (item.empty() && method == "GET") {
    json::value out = json::array{};
    for (const auto& t : tokens.tokens()) out.push_back(token_json(t));
    co_return control::reply{200, std::move(out)};
  }
  if (item.empty() && method == "POST") {
    std::vector<std::string> policies;
    if (!text_list_field(body, "policies", policies) || policies.empty())
      co_return bad_request("'policies' must be a non-empty list of policy names");
    std::optional<std::chrono::seconds> ttl;
    if (const auto* t = body.find("ttl_s"); t && !t->is_null()) {
      const auto n = t->as_int();
      if (!n || *n <= 0) co_return bad_request("'ttl_s' must be a positive number of seconds");
      ttl = std::chrono::seconds(*n);
    }
    auto made = tokens.create_token(policies, text_field(body, "display_name"), ttl);
    if (!made) co_return failure_reply(made.error());
    json::value out = token_json(made.value().info);
    out["token"] = made.value().token;
    co_return control::reply{201, std::move(out)};
  }
  if (!item.empty() && method == "DELETE") {
    if (auto revoked = tokens.revoke(item); !revoked) co_return failure_reply(revoked.error());
    control::reply r{200, {}};
    r.body["revoked"] = item;
    co_return r;
  }
  co_return control::error_reply(405, "no such endpoint: " + method + " /transit-tokens/" + item);
}

}  // namespace nodus::cli::daemon
