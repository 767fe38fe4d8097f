#pragma once
/// Relays: a peer that cannot accept connections (behind NAT) registers a name at a hub it
/// connects to; the hub then forwards whatever reaches `forward_to_<name>` over that peer's
/// connection. `forwarding_service` runs on the hub, `relay_client` on the peer.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "nodus/core/failure.hpp"
#include "nodus/node/context.hpp"
#include "nodus/node/worker.hpp"
#include "nodus/policy/policy.hpp"

namespace nodus::relay {

/// Every relay's address is this prefix followed by the registered name.
inline constexpr std::string_view relay_prefix = "forward_to_";
/// The version of the registration messages below.
inline constexpr std::uint8_t relay_protocol_version = 1;

/// Sent by a client to the forwarding service to register (or keep) a relay. Sending it again
/// over the same connection keeps the registration alive; it doubles as the ping.
struct relay_request {
  std::uint8_t version = relay_protocol_version;
  std::string name;  ///< empty: the hub picks a random name
  MSGPACK_DEFINE(version, name)
};

/// The forwarding service's answer: the relay's address, or why it refused.
struct relay_reply {
  std::uint8_t version = relay_protocol_version;
  std::string relay;  ///< e.g. `forward_to_bob`; empty when refused
  std::string error;  ///< empty on success
  MSGPACK_DEFINE(version, relay, error)
};

/// The credential attribute that says which relay name a member may take: a name, or `*` for any
/// (docs/enrollment.md: a ticket's `--relay`).
inline constexpr std::string_view relay_attribute = "relay";

/// The members-only mode of a hub's relays (docs/hub.md). A registration must come through a
/// secure channel whose peer `allow` admits; the name must be allowed by the peer credential's
/// `relay` attribute (`*` or the name itself; a random name only with `*`); and a name belongs to
/// the first identity that registered it, for good: nobody else can take it, even after that
/// identity's connection is gone.
struct relay_membership {
  /// Who may register at all, over the subject its secure channel authenticated, e.g.
  /// `authority::members_of(project)`. The default policy refuses everyone.
  policy::policy allow;
  /// Where the names' owners are kept across restarts of the hub (`relay_names.json`, mode 0600,
  /// replaced atomically on each new name). Empty: for the service's lifetime only, so after a
  /// restart the first member to register a name takes it.
  std::filesystem::path state_directory;
  /// A relay whose registration has not been renewed (the client's ping) for this long is
  /// removed, its name still bound. This is how a client whose connection or channel died, or
  /// whose credential lapsed (its channel then drops its pings), stops being forwarded to.
  duration lease = std::chrono::seconds(10);
  /// At most this many names are bound; registrations of new names are refused beyond it.
  std::size_t max_names = 4096;
};

/// How the hub treats relays.
struct forwarding_options {
  /// How often relays whose client connection has gone are looked for and removed.
  duration sweep_interval = std::chrono::seconds(1);
  /// Members-only mode; unset, anyone who reaches the service may register any name not held by
  /// a live client (and names are free again once their client's connection drops).
  std::optional<relay_membership> members;
};

/// The hub side. Start it at `forwarding_service`; it starts `forward_to_<name>` for each
/// registered client. A name held by a client whose connection is still open is refused; a
/// relay disappears when its client's connection drops. In members-only mode
/// (`forwarding_options::members`) names are bound to identities instead, and a client may
/// register through a secure channel to the hub (`route{channel.address(), "forwarding_service"}`):
/// its relay then forwards into that channel.
class forwarding_service final : public worker<relay_request> {
public:
  explicit forwarding_service(forwarding_options options = {});
  task<result<>> initialize(context& ctx) override;
  task<result<>> handle_message(context& ctx, routed<relay_request> request) override;
  task<> shutdown(context& ctx) override;

  struct registry;  // the relays and their routes, shared with their workers

private:
  /// Members-only mode: why the registration of `name` (empty: a random one, chosen here) is
  /// refused, or empty when it may go on (the name is then bound to the registrant).
  std::string admit_member(context& ctx, const routed<relay_request>& request, std::string& name);
  /// Starts or renews the relay `name` back along `to_client`; an error message, or empty.
  task<std::string> hold(context& ctx, std::string name, std::shared_ptr<const route> to_client, bool into_channel);

  forwarding_options options_;
  std::shared_ptr<registry> registry_;
};

/// Where a relay client stands; `relay_client::status` reports it.
struct relay_status {
  enum class state { registering, registered, retrying, refused };
  state now = state::registering;
  std::string relay;           ///< the relay's address at the hub once registered, e.g. `forward_to_bob`
  std::string last_error;      ///< why the last attempt failed, if it did
  unsigned registrations = 0;  ///< successful (re-)registrations, pings included
};

/// How a relay client registers and stays registered.
struct relay_client_options {
  /// The route to the hub's forwarding service, e.g. `route{tcp("hub:4000"), "forwarding_service"}`,
  /// or through a secure channel to a members-only hub: `route{channel.address(), "forwarding_service"}`.
  route service;
  /// The name to register; empty asks the hub for a random one (kept for re-registrations).
  std::string name;
  /// The local workers that messages arriving through the relay may reach, e.g. `{"listener"}`.
  /// They are exposed to the flow the hub's answers come back by: the connection the
  /// registration went over, or the secure channel when `service` goes through one (anyone who
  /// can reach the relay at the hub can reach them); nothing else on this node is. Through a
  /// secure channel, what the relay brings carries the hub's identifier and credential (it comes
  /// out of that channel): expose a secure channel listener, and decide inside its channels.
  std::vector<address> expose;
  /// How often the registration is renewed (the ping).
  duration ping_interval = std::chrono::seconds(2);
  /// How long to wait for the hub's answer.
  duration reply_timeout = std::chrono::seconds(2);
  /// Waits between failed attempts: doubles from `retry_backoff` up to `max_retry_backoff`.
  duration retry_backoff = std::chrono::milliseconds(250);
  duration max_retry_backoff = std::chrono::seconds(4);
};

/// The peer side: a processor that registers at the hub, renews the registration every
/// `ping_interval`, and registers again by itself (with back-off) when the hub restarts or the
/// connection drops. Copies share one state (options, status, waiters): start one copy, e.g.
/// with `start_processor_ptr`, and keep another (or the pointer) to call `status()` and
/// `registered()`.
///
///   auto relay = std::make_shared<relay::relay_client>(relay::relay_client_options{
///       .service = route{tcp("hub:4000"), "forwarding_service"}, .name = "bob", .expose = {"echoer"}});
///   co_await ctx.start_processor_ptr("relay_client", relay);
///   auto registered = co_await relay->registered(ctx, std::chrono::seconds(10));
class relay_client final : public processor {
public:
  explicit relay_client(relay_client_options options);
  relay_client(const relay_client&) = default;
  relay_client(relay_client&&) noexcept = default;
  relay_client& operator=(const relay_client&) = default;
  relay_client& operator=(relay_client&&) noexcept = default;
  ~relay_client() override;

  task<result<bool>> process(context& ctx) override;
  task<> shutdown(context& ctx) override;

  /// Where the client stands now. Safe from any thread. The state becomes `registered` only
  /// once everything the hub's answer causes has happened: the exposures, the log line
  /// (`relay client: registered as ...`) and the `registrations` counter.
  relay_status status() const;
  /// Makes `worker` reachable through the relay as well, now (if registered) and after every
  /// re-registration, as if it had been in `expose` from the start. `ctx`: any context of the
  /// client's node. Safe from any thread.
  void expose(const context& ctx, address worker);
  /// The workers reachable through the relay.
  std::vector<address> exposed() const;

  /// Waits until the client is registered (at once if it already is) and returns its status
  /// then, e.g. `.relay` for the name the hub gave. `ctx` is any context of the client's node.
  /// Fails with `errc::timeout` after `timeout`, the reason saying what the last attempt got
  /// (`relay client: not registered via ... within 2000 ms: ...`), and with `errc::stopped`
  /// when the client or the node stops first. A refusal by the hub is not final (the client
  /// retries), so it ends the wait only through the timeout, with the hub's words as reason.
  task<result_or_failure<relay_status>> registered(context& ctx, duration timeout = default_timeout) const;

private:
  struct shared_state;  // options, status, lock and waiters (relay/src/relay_client.cpp)
  std::shared_ptr<shared_state> state_;
};

}  // namespace nodus::relay
