// examples/kafka/hub_reach.hpp — not in the Rust guide: Alice and Bob connect to the hub first, so
// that a hub that is not there is said at once, with its reason,
//
//   bob: cannot reach the hub at 127.0.0.1:4000: connection refused
//
// and they exit 1, instead of learning it ten seconds later as a timeout: the stream client
// retries (as it must while a hub restarts), and a refused connection shows only in the log.
//
// A refused connection is tried three times, the TCP transport waiting 0.2 s and then 0.4 s
// between attempts (a hub that is just starting is found); any other error (a name that does
// not resolve, no answer within the transport's 5 s connect timeout) ends it at the first try.
// The connection stays open: the stream client's requests to `tcp(hub)` use it. The transport
// also logs each failed attempt; the one line says it all, so those log lines are kept for
// NODUS_LOG=debug (and trace).
#pragma once

#include <cctype>
#include <string>
#include <system_error>

#include <spdlog/spdlog.h>

#include "nodus/core/failure.hpp"
#include "nodus/transports/tcp.hpp"

namespace examples {

/// Connects `transport` to `hub` (`host:port`); a failure says why in one sentence for people.
inline nodus::task<nodus::result_or_failure<>> reach_hub(nodus::context& ctx, nodus::tcp_transport transport,
                                                         std::string hub) {
  constexpr int attempts = 3;
  const auto level = ctx.log().level();
  if (level > spdlog::level::debug) ctx.log().set_level(spdlog::level::off);  // nothing else runs yet
  std::error_code last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto connected = co_await transport.connect(hub);
    last = connected ? std::error_code() : connected.error();
    if (last != std::errc::connection_refused) break;
  }
  ctx.log().set_level(level);
  if (!last) co_return nodus::ok();
  auto why = last.message();  // the system's words, e.g. "Connection refused": lower case, as ours are
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  co_return nodus::fail(last, "cannot reach the hub at " + hub + ": " + why);
}

}  // namespace examples
