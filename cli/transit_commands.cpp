// The transit verbs (nodus::transit, docs/transit.md): transit create, list, delete (listeners),
// transit policy create|list|delete, transit token create|list|revoke, on the node that holds
// the keys.

#include <charconv>

#include "verb_support.hpp"

namespace nodus::cli {
namespace {

int transit_create(const std::vector<std::string>& args) {
  verb_line v("transit create", "[--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--at NODE]",
              "  nodus transit create --at keys --listen 127.0.0.1:8200\n"
              "  nodus transit create --at keys --listen 0.0.0.0:8200 --tls-cert cert.pem --tls-key key.pem\n"
              "  then: nodus transit token create --at keys --policy root   (and VAULT_TOKEN=... for clients)\n");
  std::string listen, cert, key;
  v.options.add_options()("listen", po::value(&listen)->default_value("127.0.0.1:8200"),
                          "where the Vault-compatible HTTP API listens (beyond loopback only with TLS)")(
      "tls-cert", po::value(&cert), "PEM certificate chain for HTTPS")("tls-key", po::value(&key),
                                                                       "PEM private key for HTTPS");
  if (auto done = v.parse(args)) return *done;
  if (cert.empty() != key.empty()) return fail(v.command, "give both --tls-cert and --tls-key, or neither", exit_usage);
  json::value body;
  body["listen"] = listen;
  if (!cert.empty()) {
    body["tls_certificate"] = std::filesystem::absolute(cert).string();
    body["tls_key"] = std::filesystem::absolute(key).string();
  }
  return run_call(v.command, v.node, "POST", "/transit-listeners", body, v.format(), one("transit service", {"url"}));
}

int transit_list(const std::vector<std::string>& args) {
  verb_line v("transit list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/transit-listeners", {}, v.format(), rows({"url"}));
}

int transit_delete(const std::vector<std::string>& args) {
  verb_line v("transit delete", "HOST:PORT [--at NODE]", "");
  std::string where;
  v.options.add_options()("address", po::value(&where)->required(), "the listener, as `transit list` shows it");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/transit-listeners/" + path_segment(where), {}, v.format(),
                  one("deleted transit listener", {"deleted"}));
}

int policy_create(const std::vector<std::string>& args) {
  verb_line v("transit policy create", "NAME --allow KEYS:OPERATIONS... [--at NODE]",
              "  nodus transit policy create producer --allow purchases:encrypt,datakey\n"
              "  nodus transit policy create consumer --allow 'purchases*:decrypt' --allow cards:decode\n"
              "  operations: create read list rotate config delete trim encrypt decrypt rewrap datakey hmac\n"
              "  verify random encode decode, or * for all; KEYS is a name, a prefix ending in *, or *\n");
  std::string name;
  std::vector<std::string> rules;
  v.options.add_options()("name", po::value(&name)->required(), "the policy's name (positional)")(
      "allow", po::value(&rules)->required(), "KEYS:OPERATIONS the policy allows (repeatable)");
  v.positional.add("name", 1);
  if (auto done = v.parse(args)) return *done;
  json::value body;
  body["name"] = name;
  body["rules"] = text_list(rules);
  return run_call(v.command, v.node, "POST", "/transit-policies", body, v.format(), one("policy", {"name", "rules"}));
}

int policy_list(const std::vector<std::string>& args) {
  verb_line v("transit policy list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/transit-policies", {}, v.format(), rows({"name", "rules"}));
}

int policy_delete(const std::vector<std::string>& args) {
  verb_line v("transit policy delete", "NAME [--at NODE]", "");
  std::string name;
  v.options.add_options()("name", po::value(&name)->required(), "the policy's name (positional)");
  v.positional.add("name", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/transit-policies/" + path_segment(name), {}, v.format(),
                  one("deleted policy", {"deleted"}));
}

// "90s", "10m", "24h", "30d" in seconds, or nothing.
std::optional<std::int64_t> ttl_seconds(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  const auto* end = text.data() + text.size() - 1;
  if (std::from_chars(text.data(), end, n).ptr != end || n <= 0 || n > 100'000'000) return std::nullopt;
  switch (text.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return std::nullopt;
  }
}

int token_create(const std::vector<std::string>& args) {
  verb_line v("transit token create", "--policy NAME... [--display-name TEXT] [--ttl 24h] [--at NODE]",
              "  nodus transit token create --at keys --policy producer --display-name producer-app\n"
              "  (prints the token once; clients send it as X-Vault-Token, e.g. VAULT_TOKEN for hvac)\n");
  std::vector<std::string> policies;
  std::string display, ttl;
  v.options.add_options()("policy", po::value(&policies)->required(), "a policy the token carries (repeatable)")(
      "display-name", po::value(&display), "a name for logs and `token list`")(
      "ttl", po::value(&ttl), "how long the token is valid: 90s, 10m, 24h, 30d (default: until revoked)");
  if (auto done = v.parse(args)) return *done;
  json::value body;
  body["policies"] = text_list(policies);
  body["display_name"] = display;
  if (!ttl.empty()) {
    const auto seconds = ttl_seconds(ttl);
    if (!seconds)
      return fail(v.command, "--ttl '" + ttl + "': a duration is a number and a unit: 90s, 10m, 24h, 30d", exit_usage);
    body["ttl_s"] = *seconds;
  }
  return run_call(v.command, v.node, "POST", "/transit-tokens", body, v.format(),
                  one("token", {"token", "accessor", "policies", "expires"}));
}

int token_list(const std::vector<std::string>& args) {
  verb_line v("transit token list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/transit-tokens", {}, v.format(),
                  rows({"accessor", "display_name", "policies", "expires"}));
}

int token_revoke(const std::vector<std::string>& args) {
  verb_line v("transit token revoke", "ACCESSOR [--at NODE]", "");
  std::string accessor;
  v.options.add_options()("accessor", po::value(&accessor)->required(),
                          "the token's accessor, as `token list` shows it (positional)");
  v.positional.add("accessor", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/transit-tokens/" + path_segment(accessor), {}, v.format(),
                  one("revoked token", {"revoked"}));
}

int policy(const std::vector<std::string>& args) {
  return dispatch("transit policy", args,
                  {{"create", policy_create}, {"list", policy_list}, {"delete", policy_delete}});
}

int token(const std::vector<std::string>& args) {
  return dispatch("transit token", args, {{"create", token_create}, {"list", token_list}, {"revoke", token_revoke}});
}

}  // namespace

int transit(const std::vector<std::string>& args) {
  return dispatch("transit", args,
                  {{"create", transit_create},
                   {"list", transit_list},
                   {"delete", transit_delete},
                   {"policy", policy},
                   {"token", token}});
}

}  // namespace nodus::cli
