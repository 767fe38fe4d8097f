#pragma once
// What the CLI's node verbs share: starting node processes, calling a node's control API, and
// printing its answers as text or JSON.

#include <functional>
#include <optional>
#include <string>

#include "control_client.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/json.hpp"

namespace nodus::cli {

/// Starts the node process for the node `name` (its directory must exist) in the background,
/// its output appended to node.log, and waits until its control API answers. The failure says
/// why, with the last lines of its log when the process ended.
result_or_failure<json::value> start_node_process(const std::string& name);

/// Creates the node directory and node.json of a new node (not started). With `relay_service`,
/// its TCP listener exposes the node's relay service (`forwarding_service`), as a hub's does.
/// An `identity` found in the default vault ($NODUS_HOME/vault) and not in the node's is used
/// from there; `project` (project.json, or null) makes the node a member of that project.
result_or_failure<> write_new_node(const std::string& name, const std::string& identity, const std::string& listener,
                                   const std::string& api_tcp, const std::string& metrics = {},
                                   bool relay_service = false, const json::value& project = {});

/// Makes sure the node `name` runs: the default node is created and started on first use, as
/// Ockam does; another node that exists but is stopped is started; one that does not exist is
/// an error naming it.
result_or_failure<> ensure_running(const std::string& name);

/// Calls the API of the node `name` (started first if need be, see `ensure_running`).
result_or_failure<control::response> call_node(const std::string& name, const std::string& method,
                                               const std::string& path, const json::value& body = {},
                                               std::chrono::milliseconds timeout = std::chrono::seconds(15));

/// How a verb prints what it got: as text, or (`--output json`) as the JSON the API answered.
enum class output_format { text, json };
/// Reads `--output`; an unknown format is a usage error (nullopt).
std::optional<output_format> parse_output(const std::string& text);

/// Runs one API call for `command` and prints the answer with `print_text` (or as JSON).
/// Exit codes: 0; 2 when the node refused the request as malformed (HTTP 400); 1 otherwise.
int run_call(const std::string& command, const std::string& node, const std::string& method, const std::string& path,
             const json::value& body, output_format format, const std::function<void(const json::value&)>& print_text,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));

/// `text` with '/' and other bytes outside [A-Za-z0-9._~-] percent-encoded, for a path segment.
std::string path_segment(const std::string& text);

}  // namespace nodus::cli
