#pragma once
// The members-only checks of the stream services (docs/hub.md), apart from the services' code:
// who may use them at all, who may use a stream, and whose index a request names.

#include <optional>
#include <string>
#include <string_view>

#include "nodus/core/local_message.hpp"
#include "nodus/policy/policy.hpp"
#include "nodus/stream_kafka/owners.hpp"

namespace nodus::stream_kafka::detail {

/// Who sent `m`, as its secure channel authenticated it (no identifier: not through one).
policy::subject caller(const local_message& m);

/// Why `who` may not use `service` at all (`forbidden`), or none: it must come through a secure
/// channel, and `m.allow` must admit it.
std::optional<stream_error> refuse_caller(const stream_membership& m, const policy::subject& who,
                                          std::string_view service);

/// Why `who` may not push, pull, ask about the readers of or keep an index on `stream`: the
/// owners are not read yet (`kafka_unavailable`), it has no owner (`unknown_stream`, as a
/// stream never created), or it is not for `who` (`forbidden`). None when it may.
std::optional<stream_error> refuse_access(const stream_membership& m, const std::string& stream,
                                          const std::string& who);

/// Why a create's parties are refused (`bad_request`: too many, or not identifiers), or none.
std::optional<stream_error> bad_parties(const std::vector<std::string>& parties);

/// The consumer group that keeps the index of `client_id`: its own in open mode, and in
/// members-only mode one per calling identity as well.
std::string index_group(bool members_only, const std::string& who, const std::string& client_id);

}  // namespace nodus::stream_kafka::detail
