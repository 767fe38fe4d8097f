#pragma once
// Routes as users type them: Nodus's own text (`1#127.0.0.1:4000 => forward_to_bob => listener`)
// and Ockam's (`/ip4/127.0.0.1/tcp/4000/service/forward_to_bob/secure/listener/service/echoer`,
// `/node/hub/service/echoer`), with a hint when a route looks like a mistake.

#include <string>

#include "nodus/core/failure.hpp"

namespace nodus::cli {

/// A route in Ockam's form split where it names a secure channel: `/.../secure/NAME/...`.
struct user_route {
  std::string route;  ///< Nodus text form; the part after `/secure/NAME` when `via` is set
  std::string via;    ///< the route to the secure channel listener NAME; empty: no `/secure/`
};

/// Reads `text`; `/node/NAME` becomes that node's TCP listener (from its node.json). The failure
/// is for the user, e.g. "'127.0.0.1:4000' looks like a TCP address: write 1#127.0.0.1:4000".
result_or_failure<user_route> parse_user_route(const std::string& text);

}  // namespace nodus::cli
