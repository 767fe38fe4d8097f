#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::secure_channel {

trust_policy trust_policy::everyone() {
  return {"trust everyone", [](const policy::subject&) { return true; }};
}

trust_policy trust_policy::identifier(vault::identifier id) {
  auto description = "trust only " + id;
  return {std::move(description), [id = std::move(id)](const policy::subject& peer) { return peer.identifier == id; }};
}

trust_policy trust_policy::any_of(std::vector<vault::identifier> ids) {
  auto description = fmt::format("trust any of {}", fmt::join(ids, ", "));
  std::set<vault::identifier, std::less<>> set(ids.begin(), ids.end());
  return {std::move(description),
          [set = std::move(set)](const policy::subject& peer) { return set.contains(peer.identifier); }};
}

trust_policy trust_policy::custom(std::string description, std::function<bool(const vault::identifier&)> accept) {
  return {std::move(description),
          [accept = std::move(accept)](const policy::subject& peer) { return accept(peer.identifier); }};
}

trust_policy trust_policy::allowing(policy::policy p) {
  auto description = "trust peers allowed by " + p.text();
  return {std::move(description), [p = std::move(p)](const policy::subject& peer) { return p.allows(peer); }};
}

incoming_access_control only_from(std::vector<vault::identifier> ids) {
  std::set<vault::identifier, std::less<>> set(ids.begin(), ids.end());
  auto allowed = fmt::format("{}", fmt::join(ids, ", "));
  return incoming_access_control(
      [set = std::move(set), allowed = std::move(allowed)](const local_message& m) -> std::string {
        auto found = m.metadata.find(identifier_key);
        if (found == m.metadata.end()) return "not received through a secure channel (allowed: " + allowed + ")";
        if (!set.contains(found->second)) return "from identity " + found->second + ", not one of " + allowed;
        return {};
      });
}

std::string asking_identity(const local_message& m, std::string_view local_identity) {
  if (auto found = m.metadata.find(identifier_key); found != m.metadata.end()) return found->second;
  if (!m.origin) return std::string(local_identity);
  return {};
}

policy::subject asking_subject(const local_message& m, std::string_view local_identity) {
  policy::subject s{asking_identity(m, local_identity), {}};
  // The attribute keys sort together, right after their prefix.
  for (auto it = m.metadata.lower_bound(attribute_key_prefix);
       it != m.metadata.end() && it->first.starts_with(attribute_key_prefix); ++it)
    s.attributes.emplace(it->first.substr(attribute_key_prefix.size()), it->second);
  return s;
}

std::string refusal_reason(const policy::subject& s, const policy::policy& p, std::string_view what) {
  std::string who = s.identifier.empty() ? std::string("an unauthenticated sender") : s.identifier;
  if (s.attributes.empty()) {
    who += s.identifier.empty() ? "" : " (no credential)";
  } else {
    std::vector<std::string> pairs;
    for (const auto& [name, value] : s.attributes) pairs.push_back(name + "=" + value);
    who += fmt::format(" ({})", fmt::join(pairs, ", "));
  }
  return fmt::format("{} is not allowed by the policy of {}: {}", printable(as_bytes(std::string_view(who))), what,
                     p.text());
}

incoming_access_control allowed_by(policy::policy p, std::string what) {
  return incoming_access_control([p = std::move(p), what = std::move(what)](const local_message& m) -> std::string {
    if (!m.origin) return {};  // made on this node
    auto s = asking_subject(m, {});
    if (p.allows(s)) return {};
    return refusal_reason(s, p, what);
  });
}

}  // namespace nodus::secure_channel
