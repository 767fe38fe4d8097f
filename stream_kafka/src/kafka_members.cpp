#include "kafka_members.hpp"

#include <fmt/format.h>

#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/stream_kafka/services.hpp"

namespace nodus::stream_kafka::detail {

policy::subject caller(const local_message& m) {
  // Empty for a message made on this node as well: members-only services answer channels only.
  return secure_channel::asking_subject(m, {});
}

std::optional<stream_error> refuse_caller(const stream_membership& m, const policy::subject& who,
                                          std::string_view service) {
  if (who.identifier.empty())
    return stream_error{
        stream_errc::forbidden,
        fmt::format("this hub's {} is for members only: send through a secure channel to the hub", service)};
  if (!m.allow.allows(who))
    return stream_error{stream_errc::forbidden,
                        secure_channel::refusal_reason(who, m.allow, fmt::format("the {}", service))};
  return std::nullopt;
}

std::optional<stream_error> refuse_access(const stream_membership& m, const std::string& stream,
                                          const std::string& who) {
  if (auto waiting = m.owners->not_ready()) return waiting;
  const auto owner = m.owners->find(stream);
  if (!owner)
    return stream_error{stream_errc::unknown_stream,
                        fmt::format("there is no stream '{}' on this members-only hub (create it first)", stream)};
  if (owner->admits(who)) return std::nullopt;
  return stream_error{stream_errc::forbidden,
                      fmt::format("stream '{}' belongs to {}, and is not for {}", stream, owner->owner, who)};
}

std::optional<stream_error> bad_parties(const std::vector<std::string>& parties) {
  if (parties.size() > stream::max_stream_parties)
    return stream_error{stream_errc::bad_request, fmt::format("a stream for {} parties (at most {} here)",
                                                              parties.size(), stream::max_stream_parties)};
  for (const auto& id : parties)
    if (!valid_identifier(id))
      return stream_error{stream_errc::bad_request,
                          fmt::format("party '{}' is not an identifier (I and 40 hex digits)",
                                      printable(as_bytes(std::string_view(id).substr(0, 64))))};
  return std::nullopt;
}

std::string index_group(bool members_only, const std::string& who, const std::string& client_id) {
  // An identifier is 41 characters without a '.', so `<who>.<client id>` never collides.
  if (members_only) return fmt::format("{}{}.{}", index_group_prefix, who, client_id);
  return fmt::format("{}{}", index_group_prefix, client_id);
}

}  // namespace nodus::stream_kafka::detail
