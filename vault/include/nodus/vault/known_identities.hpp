#pragma once
/// The latest change history seen per identifier, kept by the side that verifies peers, so that
/// an identity cannot be shown in a state it has since left.
///
/// Why: every prefix of a valid history is itself a valid history (it is what the identity was
/// before its later rotations). Without memory, whoever holds a primary key that the identity
/// has rotated away could cut the history back to the change that introduced that key and pass
/// for the identity. A verifier that has seen the longer history refuses the shorter one.
/// What it cannot do: refuse a cut history at first contact, before it has seen a longer one.

#include <memory>

#include "nodus/core/failure.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::vault {

/// The histories a vault's owner has seen, one per identifier: in memory for an in-memory
/// vault, one file per identifier for a directory vault (`<dir>/known/<identifier>`, mode
/// 0600, written atomically, checksummed; a damaged file is refused with a reason naming it).
/// Obtained from `vault::known()`. Thread-safe; processes sharing a directory serialise on a
/// lock of `<dir>/known`.
class known_identities {
public:
  /// Verifies `presented` and compares it with the history seen last under its identifier:
  /// accepted, and remembered, when none was seen or when it extends the one seen (which is a
  /// strict prefix of it); accepted when it is the same. Refused with `errc::untrusted_identity`
  /// and a reason naming the identifier when it is older (a strict prefix of the one seen: its
  /// primary key has been rotated away) or forks from it (the reason names the first change
  /// that differs). Returns the identifier.
  result_or_failure<identifier> check_and_remember(const change_history& presented);
  /// The same for a history already verified (its signatures are not checked again).
  result_or_failure<identifier> check_and_remember(const verified_history& presented);

  /// The history seen last under `id`; `errc::not_found` when there is none.
  result_or_failure<change_history> latest(const identifier& id) const;

  struct impl;
  /// Made by the vault that keeps it.
  explicit known_identities(std::unique_ptr<impl> p);
  ~known_identities();
  known_identities(const known_identities&) = delete;
  known_identities& operator=(const known_identities&) = delete;

private:
  std::unique_ptr<impl> impl_;
};

}  // namespace nodus::vault
