// examples/kafka/membership.hpp — Alice and Bob as members of a project (`--project project.json
// --identity NAME`, not in the Rust guide, whose programs trust by identifier or not at all):
// each presents the credential its identity got from `nodus project enroll`, accepts only peers
// that present one of the same project, and keeps its own fresh through a secure channel to the
// project's authority. Neither the hub nor Kafka can then pass a stranger off as Bob or Alice.
//
// The hub is a member too (`nodus hub --project project.json --identity hub`): each reaches its
// stream services through a secure channel to the hub's members' listener, and the streams
// Bob creates are his and Alice's only (`--party ALICE_ID`): no other member may push, pull or
// move an index there (docs/hub.md).
#pragma once

#include <utility>

#include "identity_options.hpp"
#include "nodus/authority/join.hpp"
#include "nodus/transports/tcp.hpp"

namespace examples {

/// Reads project.json and the identity's credential, and joins the project: a channel from `me`
/// to the project's authority (for refreshes: a credential lasts the project's validity) and a
/// refresher. The failure says which step failed.
inline nodus::task<nodus::result_or_failure<nodus::authority::joined_project>> join_project(
    nodus::context& ctx, nodus::tcp_transport transport, const identity_options& who,
    nodus::secure_channel::channel_identity me) {
  namespace au = nodus::authority;
  auto file = au::read_json(who.project);
  if (!file) co_return file.error();
  auto project = au::project_info::from_json(file.value());
  if (!project) co_return nodus::fail(project.error().code, who.project + ": " + project.error().message());
  au::join_options o{.project = std::move(project).value(),
                     .vault = who.vault,
                     .identity_name = who.identity,
                     .me = std::move(me),
                     .connect = transport.connector()};
  co_return co_await au::join_project(ctx, std::move(o));
}

/// Where a members-only `nodus hub --project` listens for its members' channels.
inline constexpr const char* hub_members_listener = "members";

/// A secure channel to the members' listener of the hub at `hub` (connected already): the hub
/// presents its credential and checks this member's. Streams through it are this member's own.
inline nodus::task<nodus::result_or_failure<nodus::secure_channel::channel>> open_hub_channel(
    nodus::context& ctx, std::string hub, nodus::secure_channel::channel_identity me,
    const nodus::authority::joined_project& joined) {
  nodus::secure_channel::options o{.identity = std::move(me), .trust = joined.trust};
  o.credentials = joined.credentials;
  const nodus::route to{nodus::tcp(hub), hub_members_listener};
  auto channel = co_await nodus::secure_channel::create_secure_channel(ctx, to, std::move(o));
  if (!channel)
    co_return nodus::fail(channel.error().code, "no secure channel to the hub's members' listener at " + hub + ": " +
                                                    channel.error().message());
  co_return channel;
}

}  // namespace examples
