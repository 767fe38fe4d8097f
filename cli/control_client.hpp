#pragma once
// The CLI's side of the control API: one HTTP/JSON call to a node's Unix socket.

#include <chrono>
#include <filesystem>
#include <string>

#include "nodus/core/failure.hpp"
#include "nodus/core/json.hpp"

namespace nodus::cli::control {

struct response {
  unsigned status = 0;
  json::value body;
};

/// Calls `method path` with `body` (null: none) on the API at `socket` and waits at most
/// `timeout` for the answer. Fails when the node cannot be reached (its reason says so) or its
/// answer is not JSON; an answer with an error status is a response, not a failure.
result_or_failure<response> call(const std::filesystem::path& socket, const std::string& method,
                                 const std::string& path, const json::value& body = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace nodus::cli::control
