#pragma once
/// What an authority keeps: its members (identifier -> attributes) and its enrollment tickets
/// (only the SHA-256 of each one-time secret, the attributes it grants, the relay name it
/// allows, the uses left, its expiry). Persistent in `<directory>/members.json` (mode 0600,
/// written atomically: temporary file, fsync, rename), or in memory for tests.
///
/// Thread-safe. `redeem` checks and spends a ticket under one lock, and the file is written
/// before the change is made visible, so a ticket of usage count 1 admits exactly one member
/// however many try at once, and a crash never gives it a second use.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodus/authority/credential.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::authority {

/// One member of the project.
struct member {
  vault::identifier id;
  attribute_map attributes;  ///< a ticket's attributes, with `relay` when the ticket allowed one
  time_point added_at;
};

/// What a ticket grants and how long it lasts.
struct ticket_spec {
  attribute_map attributes;
  /// The relay name its member may take: a name, `"*"` (any), or empty (none).
  std::string relay;
  /// How many enrollments it admits (at least 1).
  std::uint32_t usage_count = 1;
  std::chrono::seconds expires_in = std::chrono::hours(1);
};

/// A ticket as the store keeps it (its secret is not kept: only its SHA-256).
struct ticket_record {
  std::string secret_sha256;  ///< lowercase hex
  attribute_map attributes;
  std::string relay;
  std::uint32_t usage_left = 0;
  time_point created_at, expires_at;
};

/// The longest relay name a ticket may allow.
inline constexpr std::size_t max_relay_name_size = 128;
/// The most uses one ticket may have, and the longest it may last.
inline constexpr std::uint32_t max_usage_count = 1'000'000;
inline constexpr std::chrono::seconds max_ticket_lifetime{366LL * 24 * 3600};
/// A ticket's secret: 32 random bytes, as 64 lowercase hex digits.
inline constexpr std::size_t secret_hex_size = 64;

class member_store {
public:
  /// The store in `directory` (created with mode 0700 when missing), read from its
  /// `members.json` when there is one; a file that does not read is a failure naming it.
  static result_or_failure<std::shared_ptr<member_store>> open(const std::filesystem::path& directory);
  /// A store in memory only.
  static std::shared_ptr<member_store> in_memory();
  ~member_store();

  /// A new ticket; returns its secret (64 hex digits), which is kept nowhere. Refused
  /// (`enrollment_error::bad_request`) for a bad attribute, relay name, usage count or expiry.
  result_or_failure<std::string> add_ticket(const ticket_spec& spec, time_point now);
  /// Spends one use of the ticket whose secret is `secret` and makes `who` a member with its
  /// attributes (replacing what `who` had). Refusals: `unknown_ticket`, `ticket_expired`,
  /// `ticket_used_up`; `unavailable` when the file cannot be written (nothing is spent then).
  result_or_failure<member> redeem(std::string_view secret, const vault::identifier& who, time_point now);
  /// Adds or replaces a member directly (an administrator's doing).
  result_or_failure<> put_member(member m);
  /// False when `id` was no member.
  result_or_failure<bool> delete_member(std::string_view id);

  std::optional<member> find(std::string_view id) const;
  /// Every member, in order of identifier.
  std::vector<member> members() const;
  /// Every ticket kept (spent and expired ones are kept a day past their expiry, so that they
  /// are refused as such rather than as unknown).
  std::vector<ticket_record> tickets() const;
  /// The file it is kept in; empty in memory.
  const std::filesystem::path& file() const noexcept;

  struct state;

private:
  explicit member_store(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

/// SHA-256 of a ticket's secret text, in lowercase hex: what the store keeps.
std::string secret_digest(std::string_view secret);

}  // namespace nodus::authority
