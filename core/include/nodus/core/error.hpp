#pragma once
/// Error codes of the Nodus core and the conditions every Nodus library maps its codes onto.

#include <string>
#include <system_error>

namespace nodus {

/// Errors raised by the core vocabulary and the runtime.
enum class errc {
  malformed = 1,        ///< bytes that do not decode as the expected value
  unsupported_version,  ///< a wire value with a version this build does not speak
  too_large,            ///< a field, frame or message over its limit
  invalid_address,      ///< an address text that does not parse
  invalid_route,        ///< a route text that does not parse
  empty_route,          ///< a route with no hop where one is needed
  unknown_address,      ///< no worker or transport serves the address
  already_exists,       ///< an address that is already taken
  timeout,              ///< a wait that ran out of time
  stopped,              ///< the worker, context or node has stopped
  access_denied,        ///< a mailbox's access control refused the message
  would_deadlock,       ///< a blocking call made from one of the node's own threads
  not_supported,        ///< an operation this kind of context or worker does not offer
  worker_failed,        ///< a worker's initialize failed or threw
};

/// Portable conditions: every library's `errc` maps onto these, so callers can test
/// `ec == nodus::condition::timeout` without knowing which layer failed.
enum class condition {
  protocol = 1,        ///< malformed, unsupported or oversized input from a peer
  invalid_argument,    ///< the caller passed something unusable
  not_found,           ///< nothing answers at that address
  timeout,             ///< a wait ran out of time
  stopped,             ///< the component is shutting down or gone
  denied,              ///< refused by access control or a trust policy
  resource_exhausted,  ///< a limit was reached
};

/// The category of `nodus::errc`.
const std::error_category& error_category() noexcept;
/// The category of `nodus::condition`.
const std::error_category& condition_category() noexcept;

std::error_code make_error_code(errc e) noexcept;
std::error_condition make_error_condition(condition c) noexcept;

}  // namespace nodus

template <>
struct std::is_error_code_enum<nodus::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<nodus::condition> : std::true_type {};
