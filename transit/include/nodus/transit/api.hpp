#pragma once
/// The HTTP API of a transit service, in Vault's shape: what one request gets back, without the
/// network (server.hpp serves it). docs/transit.md lists the endpoints.
///
/// Paths are Vault's under `/v1/`: `transit/keys[/:name[/rotate|config|trim]]`,
/// `transit/encrypt|decrypt|rewrap/:name`, `transit/datakey/plaintext|wrapped/:name`,
/// `transit/random[/:bytes]`, `transit/hmac|verify/:name[/:algorithm]`, `auth/token/lookup-self`,
/// `sys/health`, and, for format-preserving encryption, `transform/encode|decode/:role`.
/// Bodies are JSON; binary fields are base64; errors are `{"errors": [...]}` with Vault's
/// statuses (400 bad input, 403 no or wrong token or not allowed, 404 no such key or path, 405
/// wrong method, 500 the vault or the disk failed). Every refusal by policy is logged with the
/// token's accessor (never the token), the key and the operation.

#include <memory>
#include <string>

#include "nodus/transit/keyring.hpp"
#include "nodus/transit/tokens.hpp"

namespace spdlog {
class logger;
}

namespace nodus::transit {

class transformations;  // transform.hpp

struct http_request {
  std::string method;  ///< GET, POST, PUT (as POST), DELETE, LIST
  std::string target;  ///< path and query, e.g. /v1/transit/keys?list=true
  std::string token;   ///< the X-Vault-Token header (or a bearer token); "" when none
  std::string body;
};

struct http_response {
  unsigned status = 200;
  std::string body;  ///< JSON text; empty for 204
};

/// Largest request body served (JSON parsing takes up to ~40 bytes of memory per byte).
inline constexpr std::size_t max_request_body = 1 << 20;

struct service_options {
  std::shared_ptr<keyring> keys;
  std::shared_ptr<token_store> tokens;
  std::shared_ptr<transformations> transforms;  ///< null: no transform/ endpoints
  spdlog::logger* log = nullptr;                ///< refusals and failures; null: not logged
};

class service {
public:
  explicit service(service_options options);
  /// The response to one request. Total: any request in, a response out (never throws).
  http_response handle(const http_request& request) const;
  const service_options& options() const noexcept { return options_; }

private:
  service_options options_;
};

}  // namespace nodus::transit
