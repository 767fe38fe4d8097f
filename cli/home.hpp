#pragma once
// Where nodes keep their state: $NODUS_HOME (default ~/.nodus), one directory per node.
//
//   $NODUS_HOME/nodes/NAME/node.json   the node's config and every service to restore
//                          vault/      its keys and identities (mode 0700)
//                          node.log    what the node process writes (stdout and stderr)
//                          pid         the process id while it runs
//                          lock        held (flock) by the running process: one per name
//                          api.sock    the control API, HTTP/JSON (mode 0600)
//                          api.token   the bearer token of the optional loopback TCP API
//                          api.port    that API's HOST:PORT

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nodus/core/failure.hpp"
#include "nodus/core/json.hpp"

namespace nodus::cli {

/// The name of the node used when a command gives no `--at`, created on first use.
inline constexpr const char* default_node_name = "default";

/// $NODUS_HOME, or ~/.nodus.
std::filesystem::path nodus_home();
/// $NODUS_HOME/nodes/NAME.
std::filesystem::path node_directory(const std::string& name);
/// Every node that has a directory, sorted by name.
std::vector<std::string> node_names();

/// A node name: 1 to 64 of [A-Za-z0-9_-], not starting with '-'. The failure says why not.
result_or_failure<> check_node_name(const std::string& name);

/// The pid of the process that holds the node's lock, if one does (the node is running).
std::optional<int> running_pid(const std::string& name);

/// Reads and parses a JSON file; the failure names the file.
result_or_failure<json::value> read_json_file(const std::filesystem::path& path);
/// Writes `v` to `path` atomically (a temporary file renamed over it), mode 0600.
result_or_failure<> write_json_file(const std::filesystem::path& path, const json::value& v);

}  // namespace nodus::cli
