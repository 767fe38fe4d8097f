#pragma once
/// Mutually authenticated, end-to-end encrypted secure channels (Noise XX) between two workers
/// anywhere along a route: through TCP hops, relays, Kafka streams.
///
///   // Bob
///   auto bob = secure_channel::channel_identity::create(vault::identity::create(v).value()).value();
///   co_await secure_channel::create_secure_channel_listener(ctx, "listener", {.identity = bob});
///   // Alice
///   auto channel = co_await secure_channel::create_secure_channel(ctx, route{tcp("hub:4000"), "forward_to_bob",
///   "listener"},
///                                                          {.identity = alice, .trust =
///                                                          trust_policy::identifier(bob_id)});
///   co_await ctx.send(route{channel.value().address(), "echoer"}, std::string("hello"));
///
/// What the peer and every intermediary cannot do unnoticed: read, change, forge or replay a
/// message (replays and duplicates are dropped), or drop one (the receiving end reports a gap).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/address.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/route.hpp"
#include "nodus/node/access_control.hpp"
#include "nodus/node/context.hpp"
#include "nodus/policy/policy.hpp"
#include "nodus/secure_channel/noise.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::secure_channel {

namespace detail {
struct access;  // the library's own access to the handles' state (secure_channel/src/channel_state.hpp)
}  // namespace detail

/// Which peers a channel end accepts: decided over the peer's authenticated identifier and,
/// when the end checks credentials (`credential_options::verify`), the attributes of the
/// credential it presented. A refusal aborts the handshake on both sides with an error naming
/// the refused identifier.
class trust_policy {
public:
  /// No policy chosen yet: channels and listeners refuse to start with it, so trusting
  /// everyone is always a decision written in the code.
  trust_policy() = default;
  /// Any identity whose history and attestation verify (the Rust guide's TrustEveryonePolicy).
  /// Anyone who can reach the listener gets a channel: choose it on purpose.
  static trust_policy everyone();
  /// Exactly this identifier.
  static trust_policy identifier(vault::identifier id);
  /// Any of these identifiers.
  static trust_policy any_of(std::vector<vault::identifier> ids);
  /// Identities for which `accept` returns true; `description` appears in refusals.
  static trust_policy custom(std::string description, std::function<bool(const vault::identifier&)> accept);
  /// Peers that `p` allows, over their identifier and their credential's attributes (without a
  /// verified credential, the identifier only): `policy::parse_policy("subject.role = \"member\"")`.
  static trust_policy allowing(policy::policy p);

  bool trusts(const vault::identifier& id) const { return trusts(policy::subject{id, {}}); }
  bool trusts(const policy::subject& s) const { return accept_ && accept_(s); }
  const std::string& description() const noexcept { return description_; }
  /// False for a default-constructed policy (none chosen).
  bool chosen() const noexcept { return static_cast<bool>(accept_); }

private:
  trust_policy(std::string description, std::function<bool(const policy::subject&)> accept)
      : description_(std::move(description)), accept_(std::move(accept)) {}
  std::string description_;
  std::function<bool(const policy::subject&)> accept_;
};

/// A peer's credential once checked: what it says about the peer, and until when.
struct verified_credential {
  std::map<std::string, std::string> attributes;
  std::chrono::system_clock::time_point expires_at;
};

/// Credentials (docs/enrollment.md): what this end presents, and how it checks the peer's.
/// The secure channel library knows nothing of authorities; `nodus::authority` fills these in
/// (`authority::member_credentials`).
struct credential_options {
  /// This end's credential, as bytes: presented in its handshake message and, each time it
  /// returns another pointer (a refreshed credential), presented again inside the channel before
  /// the next message. Unset or null: none presented. Runs on the node's threads; must not block.
  std::function<std::shared_ptr<const bytes>()> present;
  /// Checks the credential a peer presents (its bytes and the identifier that presented it). Set:
  /// every peer must present one that passes, or the handshake is refused saying why. Its
  /// attributes are then stamped on every message the channel delivers
  /// (`secure_channel.attribute.NAME`) until it expires; after that, messages from the peer are
  /// dropped (logged) until it presents a fresh one, so a member removed from its project is cut
  /// off once its last credential lapses.
  std::function<result_or_failure<verified_credential>(byte_view credential, const vault::identifier& presenter)>
      verify;
  /// The clock expiries are read on (`std::chrono::system_clock::now` when unset; tests set one).
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// An identity made ready for handshakes: a static X25519 key in the identity's vault and the
/// identity's attestation of it (renewed when it expires). Make one per identity and share it
/// between channels and listeners; copies share the key.
class channel_identity {
public:
  channel_identity() = default;  ///< empty; channels refuse to start with it
  static result_or_failure<channel_identity> create(vault::identity id,
                                                    std::chrono::seconds attestation_validity = std::chrono::hours(24 *
                                                                                                                   30));

  /// The identity's identifier (`I` and 40 hex digits).
  const vault::identifier& id() const;
  /// False for an empty `channel_identity`.
  explicit operator bool() const noexcept { return state_ != nullptr; }

private:
  struct state;
  friend struct detail::access;
  std::shared_ptr<state> state_;
};

/// How one end of a channel behaves. `identity` and `trust` are required.
struct options {
  channel_identity identity;
  /// Which peers to accept; there is no default (see `trust_policy`).
  trust_policy trust;
  /// Credentials presented and required; none by default.
  credential_options credentials;
  cipher_suite suite = cipher_suite::aes256_gcm;
  /// How long `create_secure_channel` waits for the handshake (but see `keep_waiting`); a
  /// listener drops a half-done handshake after this long.
  std::chrono::milliseconds handshake_timeout{10'000};
  /// For routes through slow intermediaries, such as a Kafka stream on a hub: asked by
  /// `create_secure_channel` each time `handshake_timeout` has passed without the peer's answer.
  /// `ok()` waits one more `handshake_timeout` (the route is still carrying the handshake, e.g.
  /// the hub confirmed it and the peer's stream is being read); a failure ends the wait with that
  /// failure (say why in its reason). Unset, the first timeout ends the wait. It runs on one of
  /// the node's threads and must not block; bounding the total wait is up to it. Listeners do
  /// not use it.
  std::function<result_or_failure<>()> keep_waiting;
  /// Each direction rekeys (Noise REKEY) every this many messages.
  std::uint64_t rekey_interval = 1ull << 16;
  /// Sequence numbers this far behind the newest one received are still accepted once
  /// (reordering); older ones are rejected as replays.
  std::size_t replay_window = 1024;
  /// The largest plaintext a channel carries; larger sends fail with `errc::too_large`.
  std::size_t max_payload_size = 16 * 1024 * 1024 - 64 * 1024;
  /// A listener refuses new handshakes while this many are half done.
  std::size_t max_pending_handshakes = 1024;
  /// For a listener: the local workers that messages arriving through its channels may reach,
  /// e.g. `{"echoer"}`. Nothing else on the node is reachable through them (replies to what
  /// this node sent excepted). For a channel this end creates, the workers that send through
  /// it get the replies; nothing else is reachable.
  std::vector<nodus::address> expose;
};

/// What one channel end has seen so far.
struct channel_stats {
  std::uint64_t sent = 0;                ///< messages encrypted and sent
  std::uint64_t delivered = 0;           ///< messages decrypted and delivered locally
  std::uint64_t duplicates_dropped = 0;  ///< replays and duplicates inside the window
  std::uint64_t rejected = 0;            ///< failed authentication, too old, malformed
  std::uint64_t missing = 0;             ///< sequence numbers skipped and never received (gaps)
};

/// One established channel end, as its creator sees it.
/// Made by `create_secure_channel` and `listener::channels`; copies share the channel end.
class channel {
public:
  /// Where to send plaintext: `route{ch.address(), "echoer"}` reaches "echoer" at the far end.
  /// Only workers of this node can send there.
  const nodus::address& address() const noexcept;
  /// Where the peer sends this end's frames (its decryptor). It travels in clear on every
  /// return route and is unrelated to `address()`.
  const nodus::address& frames_address() const noexcept;
  /// The peer's identifier, authenticated by the handshake.
  const vault::identifier& peer() const noexcept;
  /// The attributes of the peer's credential as this end holds them: from the handshake, replaced
  /// when the peer presents a fresh one, cleared when a message arrives after it expired. Empty
  /// when this end does not check credentials.
  std::map<std::string, std::string> peer_attributes() const;
  /// Counters of this end (safe to read from any thread).
  channel_stats stats() const noexcept;
  /// Whether the channel is still open (not closed by either side).
  bool open() const noexcept;

private:
  struct state;
  friend struct detail::access;
  explicit channel(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

/// Starts a handshake with the listener at the end of `to_listener`, waits for it to complete
/// and returns the channel. Fails on timeout, on a refused identity (either side's trust policy;
/// the reason names the identifier), or on a handshake error.
task<result_or_failure<channel>> create_secure_channel(context& ctx, route to_listener, options o);

/// A running listener, made by `create_secure_channel_listener`; copies share it.
class listener {
public:
  /// Where initiators send their handshakes.
  const nodus::address& address() const noexcept;
  /// The flow that messages of this listener's channels come in by (its channels' parent flow),
  /// to expose more workers later with `context::expose`.
  const std::string& flow() const noexcept;
  /// Every channel this listener has established (open or closed), oldest first.
  std::vector<channel> channels() const;

private:
  struct state;
  friend struct detail::access;
  explicit listener(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

/// Starts a listener at `at` that answers handshakes, one channel per initiator.
task<result_or_failure<listener>> create_secure_channel_listener(context& ctx, nodus::address at, options o);

/// Closes a channel from this end: the peer is told (an authenticated Close message) and both
/// ends stop; later sends to the channel's address fail with `errc::unknown_address`.
task<result<>> close_secure_channel(context& ctx, const nodus::address& channel_address);

/// The local metadata key under which a decryptor records the peer's identifier.
inline constexpr std::string_view identifier_key = "secure_channel.identifier";
/// The local metadata key under which a decryptor records its channel's address.
inline constexpr std::string_view channel_key = "secure_channel.channel";
/// The prefix of the local metadata keys under which a decryptor records the attributes of the
/// peer's verified credential: `secure_channel.attribute.role` = `member`.
inline constexpr std::string_view attribute_key_prefix = "secure_channel.attribute.";

/// Who sent `m`, for a service that answers each identity for itself (the key custodian, the
/// authority): the identifier its secure channel authenticated, `local_identity` for a message
/// made on this node, or empty for one that came from another node outside a secure channel
/// (refuse it). Never an identifier written in the message.
std::string asking_identity(const local_message& m, std::string_view local_identity);

/// Who sent `m`, for a policy: its `asking_identity` and the attributes of its verified
/// credential (none for a message made on this node, or one without a credential).
policy::subject asking_subject(const local_message& m, std::string_view local_identity);

/// Access control for a worker that accepts only messages that came through a secure channel
/// from one of `ids` (every other message is refused and logged).
incoming_access_control only_from(std::vector<vault::identifier> ids);

/// Access control for a worker whose callers `p` must allow (`asking_subject`): messages made on
/// this node always pass; a refusal names the subject and the policy (`what` says what is
/// guarded, e.g. "the relay service").
incoming_access_control allowed_by(policy::policy p, std::string what);

/// Why `p` refuses `s`, for logs and replies: `I… (role=guest) is not allowed by <policy>`.
std::string refusal_reason(const policy::subject& s, const policy::policy& p, std::string_view what);

}  // namespace nodus::secure_channel
