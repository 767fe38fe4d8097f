#pragma once
/// The member's side of an authority: enrolling with a ticket's secret, refreshing a credential,
/// the administrators' requests, and a keeper that holds a member's credential and refreshes it
/// before it lapses. Every wait is bounded by the timeout given; every failure has an
/// `enrollment_error` code and a reason (the authority's own, for its refusals).
///
///   auto credential = co_await authority::enroll(ctx, route{channel.address(), "authority"},
///                                                ticket.secret, std::chrono::seconds(10));

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nodus/authority/authority.hpp"
#include "nodus/authority/credential.hpp"
#include "nodus/authority/protocol.hpp"
#include "nodus/core/route.hpp"
#include "nodus/node/context.hpp"

namespace nodus::authority {

/// Sends `request` (its id set here) along `to` and waits at most `timeout` for the reply; a
/// refusal is a failure with the refusal's code and reason.
task<result_or_failure<authority_reply>> ask_authority(context& ctx, route to, authority_request request,
                                                       duration timeout);

/// Enrolls the identity of the secure channel `to_authority` goes through; returns the credential.
task<result_or_failure<bytes>> enroll(context& ctx, route to_authority, std::string secret, duration timeout);
/// A new credential for a member (`not_a_member` once deleted).
task<result_or_failure<bytes>> refresh(context& ctx, route to_authority, duration timeout);
/// Administrators only: a new ticket's secret.
task<result_or_failure<std::string>> request_ticket(context& ctx, route to_authority, ticket_spec spec,
                                                    duration timeout);
/// Administrators only: the members.
task<result_or_failure<std::vector<member>>> list_members(context& ctx, route to_authority, duration timeout);
/// Administrators only: false when `id` was no member.
task<result_or_failure<bool>> delete_member(context& ctx, route to_authority, std::string id, duration timeout);

struct keeper_options {
  /// To the authority's worker, through a secure channel made by the member's identity.
  route to;
  trusted_authority authority;
  /// The member's identifier: a credential about anyone else is refused.
  vault::identifier subject;
  duration timeout = std::chrono::seconds(10);
  /// The fraction of a credential's life after which `current` asks for a new one.
  double refresh_at = 0.75;
  clock_fn clock;
  /// Told of each new credential (to keep it in the vault), outside the keeper's lock.
  std::function<void(const bytes&)> on_refresh;
};

/// Holds a member's credential and refreshes it at `refresh_at` of its life. Thread-safe.
class credential_keeper {
public:
  /// Verifies `initial` (from `enroll`) against `o.authority` and `o.subject` first.
  static result_or_failure<std::shared_ptr<credential_keeper>> create(context ctx, keeper_options o, bytes initial);

  /// The credential to present: the one held, or a new one first when it is due. A failed
  /// refresh leaves the held one in use until it expires (logged); after that it is the failure.
  task<result_or_failure<bytes>> current();
  /// The credential held now, decoded.
  credential held() const;
  /// The credential held now, as presented in secure channel handshakes: the same pointer until
  /// a refresh replaces it (so a channel knows when to present it again).
  std::shared_ptr<const bytes> presentable() const;
  /// When `current` next asks for a new one.
  time_point refresh_due() const;
  /// How many refreshes succeeded.
  std::uint64_t refreshes() const;

  struct state;

private:
  explicit credential_keeper(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

}  // namespace nodus::authority
