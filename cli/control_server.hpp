#pragma once
// The node's control API server: HTTP/1.1 with JSON bodies (Boost.Beast), on a Unix domain
// socket in the node's directory (mode 0600: only its owner can connect) and optionally on
// loopback TCP, where every request must carry `Authorization: Bearer <token>`.
// docs/control-api.md lists the endpoints.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "nodus/core/failure.hpp"
#include "nodus/core/json.hpp"
#include "nodus/node/context.hpp"

namespace nodus::cli::control {

/// One API call as the handler sees it.
struct request {
  std::string method;  ///< GET, POST, DELETE
  std::string path;    ///< e.g. /tcp-listeners/127.0.0.1:4000 (no query string)
  json::value body;    ///< null when the request had none
};

/// The handler's answer: an HTTP status and a JSON body.
struct reply {
  unsigned status = 200;
  json::value body;
  /// When set, sent as it is with `content_type` instead of `body` as JSON (the metrics, the
  /// status page).
  std::optional<std::string> text;
  std::string content_type = "application/json";
  /// Run once the reply has been written (or could not be): e.g. stopping the node after
  /// answering the call that asked for it.
  std::function<void()> after_sent;
};

/// `{"error": message}` with `status`.
reply error_reply(unsigned status, std::string message);

using handler = std::function<task<reply>(request)>;

/// Limits on what a client may send (the API is local, but a bug in a script must not make the
/// node allocate without bound).
inline constexpr std::size_t max_request_body = 1 << 20;
inline constexpr std::size_t max_request_header = 16 * 1024;

/// A running server; `close()` (or destruction) stops accepting and closes idle connections.
class server {
public:
  virtual ~server() = default;
  virtual void close() = 0;
  /// `HOST:PORT` for TCP, the socket's path for a Unix server.
  virtual const std::string& where() const = 0;
};

/// Serves `h` on a Unix socket at `path` (a stale file there is replaced), mode 0600.
result_or_failure<std::shared_ptr<server>> serve_unix(context& ctx, const std::filesystem::path& path, handler h);
/// Serves `h` on `bind` (`127.0.0.1:0` picks a port); requests without the bearer `token` get 401.
result_or_failure<std::shared_ptr<server>> serve_tcp(context& ctx, const std::string& bind, std::string token,
                                                     handler h);

}  // namespace nodus::cli::control
