#pragma once
/// A member joining its project when it starts (a node made with `--project`, `nodus hub
/// --project`, the guide's Alice and Bob): its credential from its identity's vault (put there by
/// `nodus project enroll`), a hop that keeps a secure channel open to the project's authority
/// (`secure_channel::channel_hop`, reopened when the authority restarts), a keeper that refreshes
/// the credential through it before it lapses and writes each new one back to the vault, and what
/// the member's own channels need: trust in the project's members, and the credential to present.
///
///   auto joined = co_await authority::join_project(ctx, {.project = info, .vault = dir, .identity_name = "bob",
///                                                        .me = bob, .connect = transport.connector()});
///   secure_channel::options o{.identity = bob, .trust = joined.value().trust};
///   o.credentials = joined.value().credentials;

#include <filesystem>
#include <memory>
#include <string>

#include "nodus/authority/client.hpp"
#include "nodus/authority/project_file.hpp"
#include "nodus/secure_channel/channel_hop.hpp"
#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::authority {

struct join_options {
  project_info project;
  std::filesystem::path vault;  ///< the identity's vault directory (credentials/NAME.json)
  std::string identity_name;
  secure_channel::channel_identity me;
  /// Opens the TCP connection of the authority's route (`tcp_transport::connector()`).
  secure_channel::channel_hop::connect_fn connect;
  address hop = "project_authority";
  address refresher = "project_credential_refresher";
  duration timeout = std::chrono::seconds(10);
};

struct joined_project {
  std::shared_ptr<credential_keeper> keeper;
  secure_channel::trust_policy trust;              ///< the project's members
  secure_channel::credential_options credentials;  ///< present the keeper's; require the project's
};

/// Starts the hop and the refresher (at `o.hop`, `o.refresher`); a credential that expired while
/// the member was away is replaced first. The failure says which step failed.
task<result_or_failure<joined_project>> join_project(context& ctx, join_options o);

}  // namespace nodus::authority
