#include "response_rewrite.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "nodus/kafka/api.hpp"

namespace nodus::kafka_portal::detail {
namespace {

// Calls `f(node_id, host, port)` for every broker `body` names; `Body` is const or not.
template <class Body, class F>
void for_each_broker(Body& body, F&& f) {
  std::visit(
      [&](auto& b) {
        using T = std::remove_cvref_t<decltype(b)>;
        if constexpr (std::is_same_v<T, kafka::metadata_response>) {
          for (auto& x : b.brokers) f(x.node_id, x.host, x.port);
        } else if constexpr (std::is_same_v<T, kafka::describe_cluster_response>) {
          for (auto& x : b.brokers) f(x.broker_id, x.host, x.port);
        } else if constexpr (std::is_same_v<T, kafka::find_coordinator_response>) {
          if (b.node_id != -1 && !b.host.empty()) f(b.node_id, b.host, b.port);  // v0-3
          for (auto& x : b.coordinators)                                         // v4+
            if (x.node_id != -1) f(x.node_id, x.host, x.port);
        } else if constexpr (std::is_same_v<T, kafka::produce_response> || std::is_same_v<T, kafka::fetch_response>) {
          if (b.node_endpoints)
            for (auto& x : *b.node_endpoints) f(x.node_id, x.host, x.port);
        }
      },
      body);
}

}  // namespace

bool names_brokers(std::int16_t key, std::int16_t version) noexcept {
  switch (key) {
    case api_key::metadata:
    case api_key::find_coordinator:
    case api_key::describe_cluster: return true;
    case api_key::produce: return version >= 10;
    case api_key::fetch: return version >= 16;
    default: return false;
  }
}

std::vector<broker_address> brokers_named(const kafka::response_body& body) {
  std::vector<broker_address> out;
  for_each_broker(body, [&](std::int32_t id, const std::string& host, std::int32_t port) {
    broker_address a{id, host, port};
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  });
  return out;
}

void rewrite_brokers(kafka::response_body& body,
                     const std::function<std::pair<std::string, std::int32_t>(std::int32_t)>& local) {
  for_each_broker(body, [&](std::int32_t id, std::string& host, std::int32_t& port) {
    auto [h, p] = local(id);
    host = std::move(h);
    port = p;
  });
}

void restrict_versions(kafka::api_versions_response& answer) {
  std::erase_if(answer.api_keys, [](auto& entry) {
    const auto* api = kafka::find_api(entry.api_key);
    if (!api || entry.api_key == api_key::describe_quorum || entry.api_key == api_key::share_fetch ||
        entry.api_key == api_key::share_acknowledge)
      return true;
    const auto ours = kafka::supported_versions(entry.api_key).value_or(api->valid);
    entry.min_version = std::max(entry.min_version, ours.min);
    entry.max_version = std::min(entry.max_version, ours.max);
    return entry.min_version > entry.max_version;
  });
}

void cap_version(kafka::api_versions_response& answer, std::int16_t key, std::int16_t max_version) {
  for (auto& entry : answer.api_keys)
    if (entry.api_key == key) entry.max_version = std::min(entry.max_version, max_version);
}

bool api_versions_known(std::int16_t version) noexcept {
  const auto ours = kafka::supported_versions(api_key::api_versions);
  return ours && ours->contains(version);
}

bytes unsupported_api_versions_answer(std::int32_t correlation_id) {
  const auto ours = kafka::supported_versions(api_key::api_versions).value_or(kafka::version_range{0, 0});
  kafka::api_versions_response body;
  body.error_code = unsupported_version_error;
  body.api_keys.push_back({});
  body.api_keys.back().api_key = api_key::api_versions;
  body.api_keys.back().min_version = ours.min;
  body.api_keys.back().max_version = ours.max;
  kafka::response_frame frame;
  frame.api_key = api_key::api_versions;
  frame.api_version = 0;
  frame.header_version = 0;
  frame.header.correlation_id = correlation_id;
  frame.body = std::move(body);
  return kafka::with_size_prefix(kafka::encode_response(frame));
}

}  // namespace nodus::kafka_portal::detail
