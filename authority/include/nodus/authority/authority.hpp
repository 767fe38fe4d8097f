#pragma once
/// The authority: it enrolls identities that bring a ticket's secret, signs their credentials,
/// refreshes them while they stay members, and lets its administrators issue tickets, list and
/// delete members.
///
///   auto project = authority::authority::create({.identity = authority_identity,
///                                                 .store = authority::member_store::open(dir).value()})
///                      .value();
///   co_await authority::start_authority_worker(ctx, "authority", project);
///   // expose "authority" to a secure channel listener: the only way other nodes reach it
///
/// Who asks is the identifier the secure channel authenticated (the message's
/// `secure_channel.identifier` metadata), never anything written in a request. A message made
/// on this node (no origin) counts as coming from the authority's own identity, which is an
/// administrator. docs/enrollment.md has the protocol and the refusals.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodus/authority/credential.hpp"
#include "nodus/authority/member_store.hpp"
#include "nodus/authority/protocol.hpp"
#include "nodus/core/address.hpp"
#include "nodus/core/local_message.hpp"
#include "nodus/node/context.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::authority {

/// The clock of authorities and keepers: `std::chrono::system_clock::now` unless a test gives one.
using clock_fn = std::function<time_point()>;

/// The address a node's authority has unless told otherwise.
inline constexpr std::string_view default_authority_address = "authority";

struct authority_options {
  /// The identity that signs credentials (required); its identifier is the project's.
  std::optional<vault::identity> identity;
  /// Where members and tickets are kept (required): `member_store::open(dir)` or `in_memory()`.
  std::shared_ptr<member_store> store;
  /// Identifiers besides the authority's own that may issue tickets, list and delete members.
  std::vector<vault::identifier> admins;
  /// How long a credential is valid from its issue.
  std::chrono::seconds credential_validity = std::chrono::hours(1);
  clock_fn clock;
};

/// The authority's logic, without I/O but its store's file: one request and who asks in, one
/// reply out. Thread-safe.
class authority {
public:
  /// Checks `o` (a store set, a validity of 1 s to 366 days).
  static result_or_failure<std::shared_ptr<authority>> create(authority_options o);

  /// What `who` (empty: nobody authenticated) gets for `request`.
  authority_reply answer(const std::string& who, const authority_request& request);

  /// A new credential for the member `who`, from its attributes in the store now.
  result_or_failure<bytes> credential_for(const member& m);
  bool is_admin(std::string_view who) const;
  /// What members verify credentials against.
  const trusted_authority& trusted() const noexcept;
  const vault::identity& identity() const noexcept;
  const std::shared_ptr<member_store>& store() const noexcept;
  time_point now() const;

private:
  explicit authority(authority_options o, trusted_authority t);
  authority_options options_;
  trusted_authority trusted_;
};

/// Starts the worker that answers authority requests at `at` (protocol.hpp), logging each
/// enrollment and refusal with the asking identifier. Reachable from other nodes only where `at`
/// is exposed (a secure channel listener's `expose`).
task<result<>> start_authority_worker(context& ctx, address at, std::shared_ptr<authority> a);

/// Who asks: `secure_channel::asking_identity`.

}  // namespace nodus::authority
