#include "nodus/transit/tokens.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "hex_text.hpp"
#include "nodus/core/base64.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/core/json.hpp"
#include "nodus/vault/atomic_file.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::transit {
namespace {

using clock = std::chrono::system_clock;

constexpr std::array operation_names{"create",  "read",   "list",    "rotate", "config", "delete", "trim",   "encrypt",
                                     "decrypt", "rewrap", "datakey", "hmac",   "verify", "random", "encode", "decode"};
constexpr std::string_view token_prefix = "hvs.";

auto invalid(std::string why) { return nodus::fail(make_error_code(transit_errc::invalid_request), std::move(why)); }

bool valid_policy_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string hash_of(std::string_view token) {
  const auto digest = vault::sha256({reinterpret_cast<const std::uint8_t*>(token.data()), token.size()});
  return base64url_encode(digest);
}

std::int64_t unix_seconds(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

struct stored_token {
  token_info info;
  std::string hash;  ///< base64url of SHA-256 of the token
};

policy root_policy() {
  policy_rule all{"*", {}};
  for (std::size_t i = 0; i < operation_names.size(); ++i) all.allowed.push_back(static_cast<operation>(i));
  return {"root", {all}};
}

}  // namespace

std::string_view operation_name(operation op) noexcept { return operation_names.at(static_cast<std::size_t>(op)); }

std::optional<operation> parse_operation(std::string_view name) noexcept {
  for (std::size_t i = 0; i < operation_names.size(); ++i)
    if (name == operation_names[i]) return static_cast<operation>(i);
  return std::nullopt;
}

bool policy_rule::matches(std::string_view key) const noexcept {
  if (keys == "*") return true;
  if (keys.ends_with('*')) return key.starts_with(std::string_view(keys).substr(0, keys.size() - 1));
  return key == keys;
}

result_or_failure<policy_rule> parse_rule(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return invalid("a rule is KEYS:OPERATIONS (e.g. 'purchases:encrypt,datakey' or '*:*'), not '" +
                   printable_cut(text, 128) + "'");
  policy_rule rule;
  rule.keys = std::string(text.substr(0, colon));
  const auto star = rule.keys.find('*');
  if (star != std::string::npos && star + 1 != rule.keys.size())
    return invalid("in '" + printable_cut(text, 128) + "': '*' may only end the key pattern");
  auto ops = text.substr(colon + 1);
  if (ops == "*") {
    for (std::size_t i = 0; i < operation_names.size(); ++i) rule.allowed.push_back(static_cast<operation>(i));
    return rule;
  }
  while (!ops.empty()) {
    const auto comma = ops.find(',');
    const auto one = ops.substr(0, comma);
    const auto op = parse_operation(one);
    if (!op) {
      std::string known;
      for (const auto* n : operation_names) known += (known.empty() ? "" : ", ") + std::string(n);
      return invalid("unknown operation '" + printable_cut(one, 32) + "' in '" + printable_cut(text, 128) +
                     "' (known: " + known + ")");
    }
    if (std::find(rule.allowed.begin(), rule.allowed.end(), *op) == rule.allowed.end()) rule.allowed.push_back(*op);
    if (comma == std::string_view::npos) break;
    ops.remove_prefix(comma + 1);
  }
  if (rule.allowed.empty()) return invalid("no operation in '" + printable_cut(text, 128) + "'");
  return rule;
}

std::string rule_text(const policy_rule& rule) {
  std::string out = rule.keys + ":";
  if (rule.allowed.size() == operation_names.size()) return out + "*";
  for (std::size_t i = 0; i < rule.allowed.size(); ++i)
    out += (i ? "," : "") + std::string(operation_name(rule.allowed[i]));
  return out;
}

struct token_store::state {
  std::filesystem::path file;
  mutable std::mutex mutex;
  std::map<std::string, policy, std::less<>> policies;       // by name, `root` not among them
  std::map<std::string, stored_token, std::less<>> by_hash;  // by hash_of(token)

  result_or_failure<> save() const;
  result_or_failure<> load(std::string_view text);
};

result_or_failure<> token_store::state::save() const {
  if (file.empty()) return outcome::success();
  json::value out;
  out["format"] = 1;
  out["policies"] = json::array{};
  for (const auto& [name, p] : policies) {
    json::value entry;
    entry["name"] = name;
    entry["rules"] = json::array{};
    for (const auto& r : p.rules) entry["rules"].push_back(rule_text(r));
    out["policies"].push_back(std::move(entry));
  }
  out["tokens"] = json::array{};
  for (const auto& [hash, t] : by_hash) {
    json::value entry;
    entry["sha256"] = hash;
    entry["accessor"] = t.info.accessor;
    entry["display_name"] = t.info.display_name;
    entry["policies"] = json::array{};
    for (const auto& p : t.info.policies) entry["policies"].push_back(p);
    entry["created"] = unix_seconds(t.info.created);
    if (t.info.expires) entry["expires"] = unix_seconds(*t.info.expires);
    out["tokens"].push_back(std::move(entry));
  }
  return vault::write_file_atomically(file, json::dump(out, true) + "\n");
}

result_or_failure<> token_store::state::load(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return nodus::fail(make_error_code(transit_errc::internal), "transit token file " + file.string() + ": " + why);
  };
  auto parsed = json::parse(text);
  if (!parsed) return bad(parsed.error().message());
  const auto& root = parsed.value();
  const auto* ps = root.find("policies") ? root.find("policies")->as_array() : nullptr;
  const auto* ts = root.find("tokens") ? root.find("tokens")->as_array() : nullptr;
  if (!ps || !ts) return bad("no 'policies' or 'tokens' list");
  auto text_of = [](const json::value& v, std::string_view k) {
    const auto* f = v.find(k);
    return f && f->as_string() ? *f->as_string() : std::string();
  };
  for (const auto& entry : *ps) {
    policy p{text_of(entry, "name"), {}};
    const auto* rules = entry.find("rules") ? entry.find("rules")->as_array() : nullptr;
    if (!valid_policy_name(p.name) || p.name == "root" || !rules) return bad("a policy entry is malformed");
    for (const auto& r : *rules) {
      auto rule = parse_rule(r.as_string() ? *r.as_string() : "");
      if (!rule) return bad("policy '" + p.name + "': " + rule.error().message());
      p.rules.push_back(std::move(rule).value());
    }
    policies[p.name] = std::move(p);
  }
  for (const auto& entry : *ts) {
    stored_token t;
    t.hash = text_of(entry, "sha256");
    t.info.accessor = text_of(entry, "accessor");
    t.info.display_name = text_of(entry, "display_name");
    const auto created = entry.find("created") ? entry.find("created")->as_int() : std::nullopt;
    const auto* names = entry.find("policies") ? entry.find("policies")->as_array() : nullptr;
    if (t.hash.empty() || t.info.accessor.empty() || !created || !names) return bad("a token entry is malformed");
    t.info.created = clock::time_point(std::chrono::seconds(*created));
    if (const auto* e = entry.find("expires"); e && e->as_int())
      t.info.expires = clock::time_point(std::chrono::seconds(*e->as_int()));
    for (const auto& n : *names)
      if (n.as_string()) t.info.policies.push_back(*n.as_string());
    by_hash[t.hash] = std::move(t);
  }
  return outcome::success();
}

token_store::token_store(std::unique_ptr<state> s) : state_(std::move(s)) {}
token_store::~token_store() = default;

result_or_failure<std::shared_ptr<token_store>> token_store::open(std::filesystem::path file) {
  auto s = std::make_unique<state>();
  s->file = std::move(file);
  std::error_code ec;
  if (!s->file.empty() && std::filesystem::exists(s->file, ec)) {
    std::ifstream in(s->file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return nodus::fail(make_error_code(transit_errc::internal), "cannot read " + s->file.string());
    if (auto loaded = s->load(text.str()); !loaded) return loaded.error();
  }
  return std::shared_ptr<token_store>(new token_store(std::move(s)));
}

result_or_failure<> token_store::write_policy(const policy& p) {
  if (!valid_policy_name(p.name))
    return invalid("a policy name is 1 to 64 of [a-z0-9_-], not '" + printable_cut(p.name, 64) + "'");
  if (p.name == "root") return invalid("the policy 'root' is built in and cannot be changed");
  if (p.rules.empty()) return invalid("policy '" + p.name + "' has no rule");
  std::lock_guard lock(state_->mutex);
  auto before = state_->policies;
  state_->policies[p.name] = p;
  if (auto saved = state_->save(); !saved) {
    state_->policies = std::move(before);
    return saved.error();
  }
  return outcome::success();
}

result_or_failure<policy> token_store::read_policy(std::string_view name) const {
  if (name == "root") return root_policy();
  std::lock_guard lock(state_->mutex);
  auto it = state_->policies.find(name);
  if (it == state_->policies.end())
    return nodus::fail(make_error_code(transit_errc::key_not_found), "no policy '" + printable_cut(name, 64) + "'");
  return it->second;
}

std::vector<policy> token_store::policies() const {
  std::lock_guard lock(state_->mutex);
  std::vector<policy> out{root_policy()};
  for (const auto& [name, p] : state_->policies) out.push_back(p);
  return out;
}

result_or_failure<> token_store::delete_policy(std::string_view name) {
  if (name == "root") return invalid("the policy 'root' is built in and cannot be deleted");
  std::lock_guard lock(state_->mutex);
  auto it = state_->policies.find(name);
  if (it == state_->policies.end())
    return nodus::fail(make_error_code(transit_errc::key_not_found), "no policy '" + printable_cut(name, 64) + "'");
  state_->policies.erase(it);
  return state_->save();
}

result_or_failure<issued_token> token_store::create_token(std::vector<std::string> policies, std::string display_name,
                                                          std::optional<std::chrono::seconds> ttl) {
  if (policies.empty()) return invalid("a token needs at least one policy");
  std::lock_guard lock(state_->mutex);
  for (const auto& p : policies)
    if (p != "root" && !state_->policies.contains(p)) return invalid("no policy '" + printable_cut(p, 64) + "'");
  issued_token out;
  out.token = std::string(token_prefix) + base64url_encode(vault::random_bytes(32));
  // Hex, not base64url: an accessor is typed on command lines (`token revoke ACCESSOR`), where
  // one starting with '-' (1 in 64 of base64url's) would read as an option.
  out.info.accessor = detail::hex_text(vault::random_bytes(12));
  out.info.policies = std::move(policies);
  out.info.display_name = std::move(display_name);
  out.info.created = clock::now();
  if (ttl) out.info.expires = out.info.created + *ttl;
  const auto hash = hash_of(out.token);
  state_->by_hash[hash] = {out.info, hash};
  if (auto saved = state_->save(); !saved) {
    state_->by_hash.erase(hash);
    return saved.error();
  }
  return out;
}

result_or_failure<> token_store::revoke(std::string_view accessor) {
  std::lock_guard lock(state_->mutex);
  for (auto it = state_->by_hash.begin(); it != state_->by_hash.end(); ++it)
    if (it->second.info.accessor == accessor) {
      state_->by_hash.erase(it);
      return state_->save();
    }
  return nodus::fail(make_error_code(transit_errc::key_not_found),
                     "no token with accessor '" + printable_cut(accessor, 64) + "'");
}

std::vector<token_info> token_store::tokens() const {
  std::lock_guard lock(state_->mutex);
  std::vector<token_info> out;
  for (const auto& [hash, t] : state_->by_hash) out.push_back(t.info);
  return out;
}

std::optional<token_info> token_store::lookup(std::string_view token) const {
  if (!token.starts_with(token_prefix) || token.size() > 128) return std::nullopt;
  const auto hash = hash_of(token);  // the map compares hashes, so timing says nothing of the token
  std::lock_guard lock(state_->mutex);
  auto it = state_->by_hash.find(hash);
  if (it == state_->by_hash.end()) return std::nullopt;
  if (it->second.info.expires && *it->second.info.expires <= clock::now()) return std::nullopt;
  return it->second.info;
}

decision token_store::authorize(std::string_view token, operation op, std::string_view key) const {
  decision d;
  if (token.empty()) {
    d.reason = "no token (X-Vault-Token)";
    return d;
  }
  auto holder = lookup(token);
  if (!holder) {
    d.reason = "unknown, revoked or expired token";
    return d;
  }
  d.accessor = holder->accessor;
  std::lock_guard lock(state_->mutex);
  for (const auto& name : holder->policies) {
    if (name == "root") {
      d.allowed = true;
      return d;
    }
    auto it = state_->policies.find(name);
    if (it == state_->policies.end()) continue;
    for (const auto& rule : it->second.rules)
      if (rule.matches(key) && std::find(rule.allowed.begin(), rule.allowed.end(), op) != rule.allowed.end()) {
        d.allowed = true;
        return d;
      }
  }
  d.reason = "no policy of the token allows it";
  return d;
}

}  // namespace nodus::transit
