#pragma once
/// The messages between an authority's worker and its clients, over a secure channel. Versioned
/// msgpack arrays; every decoder is total (bytes in, a value or an error out) and bounded, and
/// every request gets a reply, a refusal included.
///
///   request: [version, op, request_id, body]
///     op 1 enroll:        body = the ticket's secret (text, 64 hex digits)
///     op 2 refresh:       body = nil
///     op 3 ticket:        body = [attributes (map), relay (text), usage_count, expires_in_s]
///     op 4 members:       body = nil
///     op 5 delete_member: body = identifier (text)
///   reply:   [version, request_id, op, status, reason, body]
///     status 0 (ok) only: enroll, refresh: the credential (bin, credential.hpp)
///                         ticket: the secret (text); delete_member: deleted (bool)
///                         members: [[identifier, attributes, added_at_ms], ...]
///     any other status: body = nil, and the reason says why
///
/// Who asks is never in the message: the authority takes it from the secure channel the request
/// came through.

#include <cstdint>
#include <string>
#include <vector>

#include "nodus/authority/errors.hpp"
#include "nodus/authority/member_store.hpp"
#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::authority {

inline constexpr std::uint8_t authority_protocol_version = 1;
/// No request is longer (a ticket request with 64 attributes at their largest fits).
inline constexpr std::size_t max_authority_request = 96 * 1024;
/// No reply is longer; a members list is cut to the members that fit.
inline constexpr std::size_t max_authority_reply = 4 * 1024 * 1024;
inline constexpr std::size_t max_reason_size = 1024;

enum class authority_op : std::uint8_t { enroll = 1, refresh = 2, ticket = 3, members = 4, delete_member = 5 };

/// What the authority answers; everything but `ok` comes with a reason. The values after `ok`
/// are those of `enrollment_error`.
enum class authority_status : std::uint8_t {
  ok = 0,
  ticket_used_up = 1,
  ticket_expired = 2,
  unknown_ticket = 3,
  not_an_administrator = 4,
  not_a_member = 5,
  bad_request = 6,
  unavailable = 7,
};

struct authority_request {
  std::uint8_t version = authority_protocol_version;
  authority_op op = authority_op::refresh;
  std::uint64_t request_id = 0;
  std::string secret;      ///< enroll
  ticket_spec ticket;      ///< ticket
  std::string identifier;  ///< delete_member
};

struct authority_reply {
  std::uint8_t version = authority_protocol_version;
  std::uint64_t request_id = 0;
  authority_op op = authority_op::refresh;
  authority_status status = authority_status::ok;
  std::string reason;
  bytes credential;             ///< enroll, refresh
  std::string secret;           ///< ticket
  std::vector<member> members;  ///< members
  bool deleted = false;         ///< delete_member
};

bytes encode(const authority_request& r);
/// The request in `payload`; `errc::malformed` (the reason says which field), `too_large`,
/// `unsupported_version`.
result_or_failure<authority_request> decode_authority_request(byte_view payload);

/// At most `max_authority_reply` bytes: members that would not fit are left out.
bytes encode(const authority_reply& r);
result_or_failure<authority_reply> decode_authority_reply(byte_view payload);

/// The status a refusal's error code is answered with, and back.
authority_status status_of(std::error_code code);
enrollment_error error_of(authority_status s);

}  // namespace nodus::authority
