#pragma once
/// An enrollment ticket as a single line of text, for a CLI to write to a file and the enrolling
/// host to read: what it needs to reach the authority, know it, and prove the secret.
///
///   nodus-ticket-v1.<base64url, no padding, of msgpack [1, authority, history, route, secret]>
///
/// `authority` is the authority's identifier; `history` its change history (msgpack, possibly
/// empty), so a member can verify credentials without asking anyone; `route` the route to its
/// worker in text (`1#host:port => listener => authority`, route::parse); `secret` 64 hex digits.

#include <optional>
#include <string>
#include <string_view>

#include "nodus/core/base64.hpp"
#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::authority {

inline constexpr std::string_view ticket_prefix = "nodus-ticket-v1.";
/// No ticket text is longer.
inline constexpr std::size_t max_ticket_text = 32 * 1024;

struct enrollment_ticket {
  vault::identifier authority;
  bytes history;  ///< the authority's change history (encoded); empty: not given
  std::string route;
  std::string secret;
};

/// The one-line text of `t` (no line end).
std::string ticket_text(const enrollment_ticket& t);
/// The ticket in `text` (surrounding whitespace and line ends ignored). Total and bounded; a
/// failure has `errc::malformed` and a reason saying which part is wrong; a history that does
/// not verify, or verifies to another identifier than `authority`, is refused.
result_or_failure<enrollment_ticket> parse_ticket(std::string_view text);

/// base64url without padding, as in tickets (nodus/core/base64.hpp).
using nodus::base64url_decode;
using nodus::base64url_encode;

}  // namespace nodus::authority
