#pragma once
// What the services' handlers share: reading fields of a request body, and error replies.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "../control_server.hpp"
#include "nodus/core/address.hpp"
#include "nodus/core/json.hpp"
#include "nodus/core/route.hpp"
#include "nodus/policy/policy.hpp"

namespace nodus::cli::daemon {

inline control::reply bad_request(std::string message) { return control::error_reply(400, std::move(message)); }
inline control::reply not_found(std::string message) { return control::error_reply(404, std::move(message)); }
inline control::reply conflict(std::string message) { return control::error_reply(409, std::move(message)); }
/// A failure of the service itself (a refused connection, a timeout): the API's 502.
inline control::reply failed(std::string message) { return control::error_reply(502, std::move(message)); }

/// The text member `key`, or "" when absent or not text.
std::string text_field(const json::value& body, std::string_view key);
/// The list of texts `key` (absent: empty); false when present but not a list of texts.
bool text_list_field(const json::value& body, std::string_view key, std::vector<std::string>& out);
/// A list of addresses `key`; a failure names the entry that is not an address.
result_or_failure<std::vector<address>> address_list_field(const json::value& body, std::string_view key);
/// Milliseconds `key`, or `fallback` when absent; a failure when not a positive integer.
result_or_failure<std::int64_t> millis_field(const json::value& body, std::string_view key, std::int64_t fallback);

/// A route given in text; the failure says what is wrong with it.
result_or_failure<route> route_field(const json::value& body, std::string_view key);

/// The policy expression `key` (docs/policies.md), or nothing when absent or empty; a failure
/// says what is wrong with it (the parser's first line).
result_or_failure<std::optional<policy::policy>> policy_field(const json::value& body, std::string_view key);

json::value texts(const std::vector<address>& addresses);
/// `t` as ISO 8601 in UTC, to the second (`2026-12-03T08:59:33Z`).
std::string iso_time(std::chrono::system_clock::time_point t);

}  // namespace nodus::cli::daemon
