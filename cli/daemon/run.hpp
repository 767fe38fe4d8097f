#pragma once
// The node process (`nodus node run NAME`, what `node create` and `node start` run in the background).

#include <string>

namespace nodus::cli::daemon {

/// Runs the node named `name` in this process until it is stopped (`POST /node/stop`, SIGINT,
/// SIGTERM). Returns the exit code. Its log goes to stderr (node.log when started by
/// `node create` / `node start`).
int run(const std::string& name);

}  // namespace nodus::cli::daemon
