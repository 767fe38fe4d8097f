#pragma once
/// Credentials: an authority's signed statement "identity S has these attributes from T1 to T2".
///
///   wire (msgpack):    [version, subject, {name: value, ...}, issuer, issued_at_ms, expires_at_ms,
///                       signature (64 bytes)]
///   signed content:    msgpack ["nodus.credential", version, subject, attributes, issuer,
///                       issued_at_ms, expires_at_ms]
///
/// Attributes are a msgpack map with keys in strictly increasing byte order (what std::map
/// gives), so one credential has one encoding. The signature is Ed25519 by the authority's
/// current primary key (the last change of its history).

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::authority {

using time_point = std::chrono::system_clock::time_point;
using attribute_map = std::map<std::string, std::string>;

inline constexpr std::uint8_t credential_version = 1;
/// An identifier is `I` and 40 hex digits; a little room for other forms.
inline constexpr std::size_t max_identifier_size = 128;
inline constexpr std::size_t max_attributes = 64;
inline constexpr std::size_t max_attribute_name_size = 128;
inline constexpr std::size_t max_attribute_value_size = 1024;
/// No encoded credential is longer (64 attributes at their largest fit).
inline constexpr std::size_t max_credential_size = 96 * 1024;
/// How far in the future a credential's `issued_at` may be and still count (the clocks of the
/// authority and the verifier may disagree this much).
inline constexpr std::chrono::seconds max_clock_skew{60};
/// The attribute that says which relay name a member may take (`"*"`: any).
inline constexpr std::string_view relay_attribute = "relay";
/// The attribute an authority puts on every credential it signs: its own identifier. So
/// `subject.project = "I…"` is "a member of that project" in any policy.
inline constexpr std::string_view project_attribute = "project";

struct credential {
  std::string subject;  ///< the member's identifier
  attribute_map attributes;
  std::string issuer;  ///< the authority's identifier
  time_point issued_at, expires_at;
  bytes signature;  ///< 64 bytes
};

/// What a verifier trusts: the authority's identifier and current Ed25519 public key.
struct trusted_authority {
  vault::identifier id;
  bytes public_key;

  /// From the authority's change history, which must verify (the failure says why not).
  static result_or_failure<trusted_authority> from_history(const vault::change_history& history);
};

/// Why `name` cannot be an attribute's name (policy names: segments of [A-Za-z0-9_-] joined by
/// '.', at most 128 bytes, never `identifier`, which policies read as the peer's identifier), or
/// why `value` cannot be its value (over 1024 bytes); nothing when both are fine.
std::optional<std::string> attribute_problem(std::string_view name, std::string_view value);
/// The first problem of a whole map (too many attributes, or one of them), or nothing.
std::optional<std::string> attributes_problem(const attribute_map& attributes);

/// The bytes the signature covers.
bytes signed_content(const credential& c);
/// The wire form, signature included (whatever it holds).
bytes encode(const credential& c);
/// The credential in `wire`, its signature unchecked; `credential_error::malformed` with a reason
/// naming the field.
result_or_failure<credential> decode_credential(byte_view wire);

/// Signs `c` (its `issuer` set to the identity's identifier) with the identity's primary key.
result_or_failure<bytes> sign_credential(credential c, const vault::identity& authority);

/// Decodes and checks a credential, in this order: the shape (malformed), the issuer (wrong
/// issuer: "issued by I…, not the project's authority I…"), the signature, the subject (when
/// `expected_subject` is not empty), then `now` against its times. Total and bounded.
result_or_failure<credential> verify_credential(byte_view wire, const trusted_authority& authority,
                                                std::string_view expected_subject, time_point now);

/// Milliseconds since the Unix epoch, as on the wire.
std::int64_t to_millis(time_point t);
time_point from_millis(std::int64_t ms);
/// A time as `2026-12-03T10:00:00Z` (UTC, seconds), for reasons.
std::string time_text(time_point t);

}  // namespace nodus::authority
