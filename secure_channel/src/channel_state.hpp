#pragma once
// What the workers of a secure channel share with the handles users hold.

#include <atomic>
#include <mutex>
#include <optional>
#include <vector>

#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::secure_channel {

namespace detail {
/// The library's access to what the public handles keep private: their state, and making
/// handles over it.
struct access {
  using channel_state = channel::state;
  using listener_state = listener::state;
  using identity_state = channel_identity::state;

  static const std::shared_ptr<identity_state>& state(const channel_identity& id) noexcept { return id.state_; }
  static std::shared_ptr<identity_state>& state(channel_identity& id) noexcept { return id.state_; }
  static const std::shared_ptr<listener_state>& state(const listener& l) noexcept { return l.state_; }
  static channel make_channel(std::shared_ptr<channel_state> s) { return channel(std::move(s)); }
  static listener make_listener(std::shared_ptr<listener_state> s) { return listener(std::move(s)); }
};
}  // namespace detail

using channel_shared_state = detail::access::channel_state;
using listener_shared_state = detail::access::listener_state;

struct channel::state {
  nodus::address encryptor;  // the channel's address, where users send plaintext
  nodus::address decryptor;  // where the peer sends frames
  vault::identifier peer;
  std::shared_ptr<const flow_origin> origin;  // stamped on what the decryptor delivers; set once established
  // The counters move (release) only after the log line that goes with them is written, and
  // stats() reads them with acquire: whoever sees a count also sees the line that explains it.
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> duplicates_dropped{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> missing{0};
  std::atomic<bool> open{false};

  // The peer's credential (when this end checks them), replaced when it presents a fresh one.
  mutable std::mutex credential_mutex;
  std::optional<verified_credential> peer_credential;
  void set_peer_credential(std::optional<verified_credential> c) {
    std::lock_guard lock(credential_mutex);
    peer_credential = std::move(c);
  }
  std::optional<verified_credential> current_peer_credential() const {
    std::lock_guard lock(credential_mutex);
    return peer_credential;
  }
};

struct listener::state {
  nodus::address at;
  std::string flow;                     // the parent flow of every channel it makes
  std::atomic<std::size_t> pending{0};  // handshakes in progress
  mutable std::mutex mutex;
  std::vector<std::shared_ptr<channel_shared_state>> channels;

  void add(std::shared_ptr<channel_shared_state> c) {
    std::lock_guard lock(mutex);
    channels.push_back(std::move(c));
  }
};

struct channel_identity::state {
  vault::identity identity;
  vault::key_id static_key;  // X25519, ephemeral in the identity's vault
  bytes static_public;
  std::chrono::seconds validity;

  std::mutex mutex;
  bytes history, attestation;  // encoded, for handshake messages 2 and 3
  std::int64_t expires_at = 0;

  state(vault::identity id, vault::key_id key, bytes pub, std::chrono::seconds v)
      : identity(std::move(id)), static_key(std::move(key)), static_public(std::move(pub)), validity(v) {}
  ~state() { (void)identity.key_vault()->remove(static_key); }

  /// The handshake payload, [version, history, attestation] or, with a credential,
  /// [version, history, attestation, credential]; the attestation is renewed once less than a
  /// tenth of its validity is left.
  result_or_failure<bytes> handshake_payload(const bytes* credential);
};

/// A peer as its handshake message showed it: its identifier and its credential, when this end
/// checks credentials.
struct verified_peer {
  vault::identifier id;
  std::optional<verified_credential> credential;
};

/// Checks a peer's handshake payload: its history and its attestation of `remote_static` verify,
/// its credential passes `local.credentials.verify` (when set), `local.trust` accepts it, and the history is not older
/// than (nor forks from) the one last seen under that identifier in the vault of `local.identity`, which then remembers
/// it. The failure names the identifier when it is known.
result_or_failure<verified_peer> verify_peer(byte_view payload, const bytes& remote_static, const options& local);

}  // namespace nodus::secure_channel
