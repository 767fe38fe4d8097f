#pragma once
/// Error codes of nodus::authority: why a credential is refused, and why the authority refused a
/// request. Each maps onto a portable `nodus::condition`; every failure's reason says more.

#include <system_error>

namespace nodus::authority {

/// Why `verify_credential` refused a credential.
enum class credential_error {
  malformed = 1,  ///< not a credential of a known version, or a field out of its bounds
  wrong_issuer,   ///< issued by another identity than the trusted authority
  bad_signature,  ///< the authority's signature does not cover these fields
  expired,        ///< past its `expires_at`
  not_yet_valid,  ///< `issued_at` is in the future (beyond the allowed clock skew)
  wrong_subject,  ///< about another identity than the one presenting it
};

/// Why the authority refused a request (the status of a reply, as an error code).
enum class enrollment_error {
  ticket_used_up = 1,    ///< the ticket's usage count is spent
  ticket_expired,        ///< the ticket is past its expiry
  unknown_ticket,        ///< no ticket has that secret
  not_an_administrator,  ///< an administrator's request from anyone else
  not_a_member,          ///< a refresh from an identity that is not (or no longer) a member
  bad_request,           ///< malformed, unknown op or version, a bad attribute
  unavailable,           ///< the authority could not answer: its store, its signing key
  unreachable,           ///< (client side) no answer in time, or an answer that does not decode
};

const std::error_category& credential_error_category() noexcept;
std::error_code make_error_code(credential_error e) noexcept;
const std::error_category& enrollment_error_category() noexcept;
std::error_code make_error_code(enrollment_error e) noexcept;

}  // namespace nodus::authority

template <>
struct std::is_error_code_enum<nodus::authority::credential_error> : std::true_type {};
template <>
struct std::is_error_code_enum<nodus::authority::enrollment_error> : std::true_type {};
