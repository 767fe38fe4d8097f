#pragma once
/// Identities: an Ed25519 primary key with a verifiable history of changes, a stable identifier,
/// attestations of secure-channel keys, and named identities kept in a vault directory.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::vault {

/// The most changes a history may carry; longer ones are refused before any signature is
/// checked, and an identity that has this many cannot rotate again. Each change costs two
/// Ed25519 verifications on every handshake, and a peer's history arrives before it has proved
/// anything, so this bounds the work an unauthenticated peer can ask for (a history at the cap
/// verifies in a few milliseconds). 64 rotations is more than an identity needs in years of
/// monthly rotation; the encoding of one is under 15 KiB, well inside a handshake payload field.
inline constexpr std::size_t max_history_changes = 64;

/// "I" followed by the lowercase hex of the first 20 bytes of SHA-256 over the first change's
/// signed content. The same for the whole life of the identity, across rotations.
using identifier = std::string;

/// One change of an identity: it introduces a primary Ed25519 key.
struct identity_change {
  std::uint8_t version = 1;
  bytes previous;               ///< SHA-256 of the previous change's signed content; empty for the first
  bytes public_key;             ///< the primary Ed25519 public key from this change on (32 bytes)
  std::int64_t created_at = 0;  ///< seconds since the Unix epoch
  bytes self_signature;         ///< by `public_key` over the signed content
  bytes previous_signature;     ///< by the previous change's key over the same content; empty for the first

  /// The bytes both signatures cover: a domain-separation label and the fields above the
  /// signatures, msgpack-encoded.
  bytes signed_content() const;
};

/// The ordered changes that define an identity. Travels in secure-channel handshakes.
class change_history {
public:
  change_history() = default;
  explicit change_history(std::vector<identity_change> changes) : changes_(std::move(changes)) {}

  /// Versioned msgpack. `decode` checks the shape only; call `verify` before trusting it.
  bytes encode() const;
  static result_or_failure<change_history> decode(byte_view encoded);

  /// Checks the number of changes (at most `max_history_changes`, else `nodus::errc::too_large`
  /// naming the identifier and the count), the first change's self-signature, and for every
  /// later change its link to the one before and both signatures. Returns the identifier, or a
  /// failure saying which change is bad. A valid history may still be an old one: see
  /// known_identities.hpp.
  result_or_failure<identifier> verify() const;

  /// The identifier (computed from the first change, without verifying).
  identifier id() const;
  /// The primary public key now: the last change's.
  const bytes& primary_public_key() const;
  const std::vector<identity_change>& changes() const noexcept { return changes_; }

private:
  std::vector<identity_change> changes_;
};

/// A change history that has verified: made only by `verified_history::of`, which runs
/// `change_history::verify`, so the functions taking one need not verify it again (a handshake
/// used to verify the peer's history twice: for its attestation and before remembering it).
class verified_history {
public:
  /// `history` if it verifies (as `change_history::verify` says), with its identifier.
  static result_or_failure<verified_history> of(change_history history);

  const change_history& history() const noexcept { return history_; }
  const identifier& id() const noexcept { return id_; }

private:
  verified_history(change_history h, identifier id) : history_(std::move(h)), id_(std::move(id)) {}
  change_history history_;
  identifier id_;
};

/// An identity's signed statement: "as of change `change_hash`, my secure-channel static X25519
/// key is `subject_key`, until `expires_at`". Signed by the primary key of that change.
struct attestation {
  std::uint8_t version = 2;
  bytes change_hash;            ///< SHA-256 of the signed content of the identity's latest change when made
  bytes subject_key;            ///< the attested X25519 public key (32 bytes)
  std::int64_t expires_at = 0;  ///< seconds since the Unix epoch
  bytes signature;              ///< Ed25519 over a domain label, version, change_hash, subject_key, expires_at

  /// Versioned msgpack (encoding version 2). `decode` refuses version 1, whose attestations
  /// were not bound to a change, with `nodus::errc::unsupported_version` and a reason saying so.
  bytes encode() const;
  static result_or_failure<attestation> decode(byte_view encoded);
};

/// Checks that `a` is bound to the latest change of `history` (which must itself verify) and
/// signed by that change's primary key, is about `static_key`, and has not expired at `now`.
/// An attestation made under an earlier change, by a key rotated away since, is refused saying
/// so. The failure names the identifier.
result_or_failure<identifier> verify_attestation(
    const change_history& history, const attestation& a, byte_view static_key,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
/// The same for a history already verified (its signatures are not checked again).
result_or_failure<identifier> verify_attestation(
    const verified_history& history, const attestation& a, byte_view static_key,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// An identity whose current primary key is held by a vault.
class identity {
public:
  /// A new identity: a new ed25519 key of `lifetime` in `v` and a self-signed first change.
  static result_or_failure<identity> create(std::shared_ptr<vault> v, key_lifetime lifetime = key_lifetime::persistent);
  /// An identity from its history and the vault key of its current primary key; checks that the
  /// history verifies and that the key's public half is the history's primary key.
  static result_or_failure<identity> from_history(std::shared_ptr<vault> v, change_history history, key_id primary_key);

  const identifier& id() const noexcept { return id_; }
  const change_history& history() const noexcept { return history_; }
  const key_id& primary_key() const noexcept { return primary_key_; }
  const std::shared_ptr<vault>& key_vault() const noexcept { return vault_; }

  /// Adds a change with a new primary key, signed by the new key and the previous one, then
  /// erases the previous key from the vault, so that it can sign nothing more. The identifier
  /// does not change. Refused (`nodus::errc::too_large`) once the history has
  /// `max_history_changes`. If the previous key cannot be erased the rotation stands and the
  /// failure says which key is left.
  result_or_failure<> rotate(key_lifetime lifetime = key_lifetime::persistent);

  /// Attests `static_public_key` (X25519) until now + `validity`, bound to the latest change.
  result_or_failure<attestation> attest(byte_view static_public_key, std::chrono::seconds validity);

private:
  friend class identity_store;  // saves the rotated history before the previous key goes
  identity(std::shared_ptr<vault> v, change_history h, key_id k, identifier id);
  /// `rotate` without erasing the previous key, whose id it returns.
  result_or_failure<key_id> rotate_keeping_previous(key_lifetime lifetime);
  /// Erases `previous` (from rotate_keeping_previous); the failure says which key is left.
  result_or_failure<> erase_previous(const key_id& previous);
  std::shared_ptr<vault> vault_;
  change_history history_;
  key_id primary_key_;
  identifier id_;
};

/// Named identities in a vault: `<vault dir>/identities/<name>` (mode 0600, written atomically
/// through the vault's directory descriptor),
/// each holding the change history and the key id of the current primary key. With an in-memory
/// vault the names live in memory. Names are 1-64 characters of [A-Za-z0-9._-].
class identity_store {
public:
  explicit identity_store(std::shared_ptr<vault> v);
  ~identity_store();

  /// A new identity under `name`; `errc::already_exists` if the name is taken.
  result_or_failure<identity> create(const std::string& name);
  /// The identity saved under `name`; `errc::not_found`, or a failure naming a bad file.
  result_or_failure<identity> load(const std::string& name) const;
  /// `load`, or `create` when there is none yet.
  result_or_failure<identity> load_or_create(const std::string& name);
  /// Every name, sorted.
  result_or_failure<std::vector<std::string>> list() const;
  /// Rotates the identity saved under `name`, saves it, then erases the previous primary key
  /// from the vault (after the save, so that a failure never leaves a record naming a key that
  /// is gone).
  result_or_failure<identity> rotate(const std::string& name);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

}  // namespace nodus::vault
