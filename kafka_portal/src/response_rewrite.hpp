#pragma once
// What the portal reads in, and changes about, a broker's answers: the brokers it names (and
// their addresses, rewritten at the inlet), and the versions ApiVersions offers.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nodus/kafka/frame.hpp"

namespace nodus::kafka_portal::detail {

namespace api_key {
inline constexpr std::int16_t produce = 0, fetch = 1, metadata = 3, find_coordinator = 10, api_versions = 18,
                              describe_quorum = 55, describe_cluster = 60, share_fetch = 78, share_acknowledge = 79;
}

/// Kafka's UNSUPPORTED_VERSION error code.
inline constexpr std::int16_t unsupported_version_error = 35;

struct broker_address {
  std::int32_t node_id = 0;
  std::string host;
  std::int32_t port = 0;
  friend bool operator==(const broker_address&, const broker_address&) = default;
};

/// Whether answers to (key, version) may name brokers (and so are read whole and rewritten).
bool names_brokers(std::int16_t key, std::int16_t version) noexcept;
/// The brokers `body` names, skipping node id -1 (FindCoordinator's "no coordinator").
std::vector<broker_address> brokers_named(const kafka::response_body& body);
/// Sets the address of every broker `body` names to `local(node_id)`.
void rewrite_brokers(kafka::response_body& body,
                     const std::function<std::pair<std::string, std::int32_t>(std::int32_t)>& local);

/// Cuts an ApiVersions answer down to what the portal can carry: API keys it does not know are
/// removed, and so are the ones whose answers name brokers in a way it does not rewrite
/// (DescribeQuorum, ShareFetch, ShareAcknowledge); the APIs it reads get the intersection of
/// the broker's range and its own, the others the broker's range within their schema's.
void restrict_versions(kafka::api_versions_response& answer);
/// Lowers the newest version offered for `key` to `max_version`.
void cap_version(kafka::api_versions_response& answer, std::int16_t key, std::int16_t max_version);

/// Whether the portal can read an ApiVersions request of this version (else it answers itself).
bool api_versions_known(std::int16_t version) noexcept;
/// A broker's answer to an ApiVersions request it cannot read: a v0 answer with
/// UNSUPPORTED_VERSION and the ApiVersions range it speaks; the whole frame, size first.
bytes unsupported_api_versions_answer(std::int32_t correlation_id);

}  // namespace nodus::kafka_portal::detail
