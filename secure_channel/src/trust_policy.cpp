#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::secure_channel {

trust_policy trust_policy::everyone() {
  return {"trust everyone", [](const vault::identifier&) { return true; }};
}

trust_policy trust_policy::identifier(vault::identifier id) {
  auto description = "trust only " + id;
  return {std::move(description), [id = std::move(id)](const vault::identifier& peer) { return peer == id; }};
}

trust_policy trust_policy::any_of(std::vector<vault::identifier> ids) {
  auto description = fmt::format("trust any of {}", fmt::join(ids, ", "));
  std::set<vault::identifier, std::less<>> set(ids.begin(), ids.end());
  return {std::move(description), [set = std::move(set)](const vault::identifier& peer) { return set.contains(peer); }};
}

trust_policy trust_policy::custom(std::string description, std::function<bool(const vault::identifier&)> accept) {
  return {std::move(description), std::move(accept)};
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

}  // namespace nodus::secure_channel
