#pragma once
/// A project's members on secure channels: the credential a member presents, the check of its
/// peers' credentials, and what keeps its credential fresh.
///
///   // a member (after `enroll`)
///   auto keeper = authority::credential_keeper::create(ctx, {...}, credential).value();
///   co_await authority::start_credential_refresher(ctx, "credential_refresher", keeper);
///   secure_channel::options o{.identity = me, .trust = authority::trust_members(project)};
///   o.credentials = authority::member_credentials(keeper, project);
///
///   // the authority's own node: it presents credentials it signs for itself
///   o.credentials = authority::authority_credentials(the_authority);
///
/// Then every peer must present a credential of the project (about itself, valid now), its
/// attributes ride on each message it sends (`secure_channel::asking_subject`), and its messages
/// stop once its credential lapses (a deleted member's does within `credential_validity`).

#include <functional>
#include <memory>

#include "nodus/authority/authority.hpp"
#include "nodus/authority/client.hpp"
#include "nodus/authority/credential.hpp"
#include "nodus/policy/policy.hpp"
#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::authority {

/// `subject.project = "I…"`: the members of the project whose authority is `a` (every credential
/// it signs carries its identifier as the `project` attribute).
policy::policy members_of(const trusted_authority& a);
/// A trust policy for channels among members: `members_of(a)`, checked over verified credentials.
secure_channel::trust_policy trust_members(const trusted_authority& a);

/// For `credential_options::verify`: credentials of `a`, about the identity presenting them,
/// valid at `clock()` (the system clock when unset).
std::function<result_or_failure<secure_channel::verified_credential>(byte_view, const vault::identifier&)>
credential_verifier(trusted_authority a, clock_fn clock = {});

/// A member's channels: present what `keeper` holds; require peers' credentials of `a`, checked
/// at `clock()` (the system clock when unset).
secure_channel::credential_options member_credentials(std::shared_ptr<credential_keeper> keeper, trusted_authority a,
                                                      clock_fn clock = {});
/// The authority's node: present credentials `a` signs for its own identity (signed again at 3/4
/// of their life); require peers' credentials of `a`.
secure_channel::credential_options authority_credentials(std::shared_ptr<authority> a);

/// A keeper of `credential` for `o.subject`; when `credential` no longer verifies (it expired while
/// the member was away), a fresh one is asked for along `o.to` first (and `o.on_refresh` told of
/// it, as of every later one).
task<result_or_failure<std::shared_ptr<credential_keeper>>> keep_credential(context& ctx, keeper_options o,
                                                                            bytes credential);

/// Starts a processor at `at` that keeps `keeper`'s credential fresh without waiting for a
/// caller: it asks for a new one when `refresh_due` comes, and again every `retry` while the
/// authority does not answer (the held one stays in use until it expires).
task<result<>> start_credential_refresher(context& ctx, address at, std::shared_ptr<credential_keeper> keeper,
                                          duration retry = std::chrono::seconds(5));

}  // namespace nodus::authority
