#pragma once
// `nodus hub --project project.json --identity NAME`: the hub as a member of a project, serving
// members only (docs/hub.md). Its identity (enrolled with `nodus project enroll`, like any
// member's) presents its credential on the secure channel listener `members`, which accepts only
// the project's members; relays and streams behind it are bound to the member that took them.
// The services themselves refuse whatever does not come through a member's channel, with a reason.

#include <string>

#include "nodus/node/node.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/stream_kafka/owners.hpp"
#include "nodus/transports/tcp.hpp"

namespace nodus::cli {

/// The listener members open their channels to.
inline constexpr const char* hub_members_listener = "members";

struct hub_member_settings {
  std::string project_file;
  std::string identity;
  std::string vault;            ///< default: $NODUS_HOME/vault
  std::string state_directory;  ///< relay names' owners (default: none, for the hub's lifetime)
};

struct hub_membership {
  relay::relay_membership relays;
  stream_kafka::stream_membership streams;
  std::string project_id;
  std::string hub_id;
};

/// Joins the project as the hub's identity and starts the members' listener in front of
/// `services`. A failure is one line for the user; `usage` is set when the command line was
/// wrong (a file or identity that is not there).
result_or_failure<hub_membership> start_hub_membership(node& n, tcp_transport transport,
                                                       const hub_member_settings& settings,
                                                       std::shared_ptr<stream_kafka::kafka_client> kafka,
                                                       std::vector<address> services, bool& usage);

}  // namespace nodus::cli
