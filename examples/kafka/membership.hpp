// examples/kafka/membership.hpp — Alice and Bob as members of a project (`--project project.json
// --identity NAME`, not in the Rust guide, whose programs trust by identifier or not at all):
// each presents the credential its identity got from `nodus project enroll`, accepts only peers
// that present one of the same project, and keeps its own fresh through a secure channel to the
// project's authority. Neither the hub nor Kafka can then pass a stranger off as Bob or Alice.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "identity_options.hpp"
#include "nodus/authority/membership.hpp"
#include "nodus/authority/project_file.hpp"
#include "nodus/transports/tcp.hpp"

namespace examples {

struct membership {
  nodus::secure_channel::trust_policy trust;
  nodus::secure_channel::credential_options credentials;
};

/// Reads project.json and the identity's credential, opens a secure channel from `me` to the
/// project's authority (for refreshes: a credential lasts the project's validity), and starts a
/// refresher. The failure says which step failed.
inline nodus::task<nodus::result_or_failure<membership>> join_project(nodus::context& ctx,
                                                                      nodus::tcp_transport transport,
                                                                      const identity_options& who,
                                                                      nodus::secure_channel::channel_identity me) {
  namespace au = nodus::authority;
  namespace sc = nodus::secure_channel;
  auto file = au::read_json(who.project);
  if (!file) co_return file.error();
  auto project = au::project_info::from_json(file.value());
  if (!project) co_return nodus::fail(project.error().code, who.project + ": " + project.error().message());
  auto credential = au::load_credential(who.vault, who.identity, project.value().authority.id);
  if (!credential) co_return credential.error();
  auto to = nodus::route::parse(project.value().route);
  if (!to || to.value().size() < 2)
    co_return nodus::fail(nodus::errc::invalid_route, "the project's authority route is not a route to a worker");
  std::vector<nodus::address> hops(to.value().begin(), to.value().end());
  const nodus::address worker = hops.back();
  hops.pop_back();
  if (hops.front().type() == nodus::tcp_type) {
    auto connected = co_await transport.connect(hops.front().value());
    if (!connected)
      co_return nodus::fail(connected.error(), "cannot reach the project's authority at " + hops.front().value());
  }
  sc::options o{.identity = me, .trust = sc::trust_policy::identifier(project.value().authority.id)};
  auto channel = co_await sc::create_secure_channel(ctx, nodus::route(std::move(hops)), o);
  if (!channel)
    co_return nodus::fail(channel.error().code,
                          "no secure channel to the project's authority: " + channel.error().message());
  au::keeper_options ko{.to = nodus::route{channel.value().address(), worker},
                        .authority = project.value().authority,
                        .subject = me.id()};
  const auto vault = who.vault, identity = who.identity, id = project.value().authority.id;
  // Named: g++ 12 destroys a lambda temporary in a co_await's arguments twice.
  std::function<void(const nodus::bytes&)> keep_fresh = [=](const nodus::bytes& fresh) {
    (void)au::save_credential(vault, identity, id, fresh);
  };
  auto keeper = co_await au::keep_credential(ctx, ko, credential.value(), keep_fresh);
  if (!keeper) co_return keeper.error();
  if (auto started = co_await au::start_credential_refresher(ctx, "credential_refresher", keeper.value()); !started)
    co_return nodus::fail(started.error(), "cannot start the credential refresher");
  co_return membership{au::trust_members(project.value().authority),
                       au::member_credentials(keeper.value(), project.value().authority)};
}

}  // namespace examples
