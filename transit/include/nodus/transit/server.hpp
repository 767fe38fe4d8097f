#pragma once
/// A transit service on the network: HTTP/1.1 (Boost.Beast) on a TCP listener, with TLS when a
/// certificate and key are given. Without TLS it listens on loopback only: reach it from
/// elsewhere through a TCP portal over a secure channel, or give it a certificate.
///
/// Bounded: at most `max_connections` at once (more are closed at once), a request's header and
/// body within limits (413 past them), a slow client cut off after 30 s of silence.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "nodus/core/failure.hpp"
#include "nodus/node/context.hpp"
#include "nodus/transit/api.hpp"

namespace nodus::transit {

struct tls_files {
  std::filesystem::path certificate;  ///< PEM, the chain with the server's certificate first
  std::filesystem::path private_key;  ///< PEM
};

struct server_options {
  std::string listen = "127.0.0.1:8200";  ///< HOST:PORT; port 0 picks one
  std::optional<tls_files> tls;
  std::size_t max_connections = 64;
};

class server {
public:
  virtual ~server() = default;
  /// Stops accepting and closes the connections.
  virtual void close() = 0;
  /// HOST:PORT as bound.
  virtual const std::string& where() const = 0;
  virtual bool tls() const = 0;
};

/// Serves `api` on the node's threads. Refused with a reason: a listen address that does not
/// parse, a non-loopback one without TLS, unreadable or mismatched certificate and key, a port
/// in use.
result_or_failure<std::shared_ptr<server>> serve(context& ctx, std::shared_ptr<const service> api,
                                                 server_options options);

}  // namespace nodus::transit
