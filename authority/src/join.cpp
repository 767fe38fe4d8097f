#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/authority/join.hpp"

#include "nodus/authority/errors.hpp"
#include "nodus/authority/membership.hpp"

namespace nodus::authority {

task<result_or_failure<joined_project>> join_project(context& ctx, join_options o) {
  auto credential = load_credential(o.vault, o.identity_name, o.project.authority.id);
  if (!credential) co_return credential.error();
  auto to = route::parse(o.project.route);
  if (!to || to.value().size() < 2)
    co_return fail(make_error_code(enrollment_error::bad_request),
                   "the project's authority route '" + o.project.route + "' is not a route to a worker");
  std::vector<address> hops(to.value().begin(), to.value().end());
  const address worker = hops.back();
  hops.pop_back();
  secure_channel::options to_authority{.identity = o.me,
                                       .trust = secure_channel::trust_policy::identifier(o.project.authority.id)};
  to_authority.handshake_timeout = o.timeout;
  secure_channel::channel_hop hop(route(std::move(hops)), std::move(to_authority), "the project's authority",
                                  std::move(o.connect));
  if (auto started = co_await ctx.start_worker(o.hop, std::move(hop)); !started)
    co_return fail(started.error(), "cannot start the hop to the project's authority: " + started.error().message());
  keeper_options ko{
      .to = route{o.hop, worker}, .authority = o.project.authority, .subject = o.me.id(), .timeout = o.timeout};
  ko.on_refresh = [vault = o.vault, name = o.identity_name, id = o.project.authority.id,
                   log = &ctx.log()](const bytes& fresh) {
    if (auto saved = save_credential(vault, name, id, fresh); !saved)
      log->warn("a new credential, not kept in the vault: {}", saved.error().message());
  };
  auto keeper = co_await keep_credential(ctx, std::move(ko), std::move(credential).value());
  if (!keeper) co_return keeper.error();
  if (auto started = co_await start_credential_refresher(ctx, o.refresher, keeper.value()); !started)
    co_return fail(started.error(), "cannot start the credential refresher: " + started.error().message());
  co_return joined_project{keeper.value(), trust_members(o.project.authority),
                           member_credentials(keeper.value(), o.project.authority)};
}

}  // namespace nodus::authority
