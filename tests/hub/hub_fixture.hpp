#pragma once
// A members-only hub over loopback TCP, and members on nodes of their own.
//
// The hub is its project's authority (docs/hub.md). It listens on TCP and runs:
//  - "open": a secure channel listener that trusts everyone and checks no credential, in front
//    of "authority" (how identities enroll) and, as a misconfiguration would, of the relay and
//    stream services too (whose own policy must then refuse non-members);
//  - "members": a listener that takes only members of the project (credentials checked), in
//    front of the relay and stream services;
//  - the forwarding service and the stream services in members-only mode, on the embedded
//    Kafka cluster.
// The TCP listener exposes the services as well, so that a stranger can try them without any
// secure channel. Every member and stranger is a node of its own, with a `tag` worker that
// answers with the node's label (so a test sees whose node a message reached). All share a
// clock the test moves (credentials expire on it).

#include <memory>
#include <string>

#include "authority_fixture.hpp"
#include "nodus/authority/membership.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/stream/client.hpp"
#include "nodus/stream_kafka/services.hpp"

namespace nodus::test {

namespace sk = nodus::stream_kafka;

/// Answers every message with the label of its node.
class tag_worker final : public raw_worker {
public:
  explicit tag_worker(std::string label) : label_(std::move(label)) {}
  task<result<>> handle_message(context& ctx, local_message m) override {
    co_return co_await ctx.send(m.return_route, label_);
  }

private:
  std::string label_;
};

/// A node of its own (no listening port) with an identity; enrolled or not.
struct member_node {
  explicit member_node(std::string name)
      : label(std::move(name)), net({}, tcp_options{.reconnect_backoff = 50ms, .max_reconnect_backoff = 200ms}) {
    REQUIRE(net.n.start_worker("tag", tag_worker(label)));
  }
  const vault::identifier& id() const { return identity.id(); }

  std::string label;
  tcp_node net;
  sc::channel_identity identity = new_channel_identity();
  std::shared_ptr<au::credential_keeper> keeper;  // enrolled members only
};

struct hub_options {
  /// Where the forwarding service keeps its names (empty: in memory).
  std::filesystem::path relay_state;
  duration relay_lease = 2s;
};

struct hub_fixture {
  explicit hub_fixture(hub_options o = {})
      : hub("127.0.0.1:0", {}, true, {"open", "members", "forwarding_service", "stream_kafka", "stream_kafka_index"}),
        options(std::move(o)) {
    project =
        au::authority::create({.identity = authority_raw, .store = au::member_store::in_memory(), .clock = clock.fn()})
            .value();
    REQUIRE(hub.n.block_on([&](context& ctx) { return start_authority(ctx, project); }));
    REQUIRE(start_forwarding());
    start_streams();
    start_listeners();
  }

  const std::vector<address>& services() const { return service_addresses; }

  bool start_forwarding() {
    relay::forwarding_options fo{.sweep_interval = 50ms};
    fo.members = relay::relay_membership{.allow = au::members_of(project->trusted()),
                                         .state_directory = options.relay_state,
                                         .lease = options.relay_lease};
    return static_cast<bool>(hub.n.start_worker("forwarding_service", relay::forwarding_service(fo)));
  }

  void start_streams() {
    auto started = sk::embedded_kafka::start(hub.logs.logger());
    REQUIRE(started);
    kafka = started.value();
    auto client = sk::kafka_client::create(
        {.config = {.bootstrap_servers = kafka->bootstrap()}, .embedded = kafka, .log = hub.logs.logger()});
    REQUIRE(client);
    kafka_client = client.value();
    owners = sk::stream_owners::create(kafka_client, std::string(sk::owners_topic), hub.logs.logger());
    sk::stream_membership members{.allow = au::members_of(project->trusted()), .owners = owners};
    sk::stream_service_options so{.kafka = kafka_client};
    so.members = members;
    REQUIRE(hub.n.start_worker(std::string(sk::stream_service_address), sk::stream_kafka_service(so)));
    sk::index_service_options io{.kafka = kafka_client};
    io.members = members;
    REQUIRE(hub.n.start_worker(std::string(sk::index_service_address), sk::stream_kafka_index_service(io)));
    REQUIRE(eventually([&] { return owners->loaded(); }, 20s));
  }

  void start_listeners() {
    sc::options open{.identity = authority_identity, .trust = sc::trust_policy::everyone()};
    open.expose = service_addresses;
    open.expose.push_back("authority");
    REQUIRE(hub.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "open", open); }));
    sc::options members{.identity = authority_identity, .trust = au::trust_members(project->trusted())};
    members.credentials = au::authority_credentials(project);
    members.expose = service_addresses;
    REQUIRE(hub.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "members", members); }));
  }

  /// A node whose identity the authority never enrolled.
  std::unique_ptr<member_node> stranger(std::string label) { return std::make_unique<member_node>(std::move(label)); }

  /// The same identity on a new node (its host restarted): a keeper with the credential it had,
  /// refreshed through a channel of the new node.
  std::unique_ptr<member_node> restarted(const member_node& old, std::string label) {
    auto m = stranger(std::move(label));
    m->identity = old.identity;
    auto to_authority = open_channel(*m);
    REQUIRE_MESSAGE(to_authority, to_authority.error().message());
    const route to{to_authority.value().address(), "authority"};
    m->keeper = au::credential_keeper::create(
                    m->net.n.create_context("keeper."),
                    {.to = to, .authority = project->trusted(), .subject = m->id(), .clock = clock.fn()},
                    *old.keeper->presentable())
                    .value();
    return m;
  }

  /// A node whose identity enrolled with a ticket of `spec`, its credential kept.
  std::unique_ptr<member_node> member(std::string label, au::ticket_spec spec) {
    auto m = stranger(std::move(label));
    const auto secret =
        hub.n.block_on([&](context& ctx) { return ticket_task(ctx, route{"authority"}, spec); }).value();
    auto to_authority = open_channel(*m);
    REQUIRE_MESSAGE(to_authority, to_authority.error().message());
    const route to{to_authority.value().address(), "authority"};
    auto credential = m->net.n.block_on([&](context& ctx) { return enroll_task(ctx, to, secret); });
    REQUIRE_MESSAGE(credential, credential.error().message());
    m->keeper =
        au::credential_keeper::create(
            m->net.n.create_context("keeper."),
            {.to = to, .authority = project->trusted(), .subject = m->id(), .clock = clock.fn()}, credential.value())
            .value();
    return m;
  }

  /// A channel to "members" (credentials presented and checked, on the test's clock).
  result_or_failure<sc::channel> member_channel(member_node& m) {
    sc::options o{.identity = m.identity, .trust = au::trust_members(project->trusted())};
    if (m.keeper) {
      o.credentials = au::member_credentials(m.keeper, project->trusted(), clock.fn());
    } else {
      o.credentials.verify = au::credential_verifier(project->trusted(), clock.fn());
    }
    o.handshake_timeout = 3s;
    return m.net.n.block_on([&](context& ctx) {
      return sc::create_secure_channel(ctx, route{tcp(hub.bound), "members"}, o);
    });
  }

  /// A channel to "open" (no credentials either way).
  result_or_failure<sc::channel> open_channel(member_node& m) {
    sc::options o{.identity = m.identity, .trust = sc::trust_policy::identifier(authority_identity.id())};
    o.handshake_timeout = 3s;
    return m.net.n.block_on([&](context& ctx) {
      return sc::create_secure_channel(ctx, route{tcp(hub.bound), "open"}, o);
    });
  }

  authority_clock clock;
  tcp_node hub;
  hub_options options;
  std::vector<address> service_addresses{"forwarding_service", std::string(sk::stream_service_address),
                                         std::string(sk::index_service_address)};
  vault::identity authority_raw = vault::identity::create(vault::vault::create_in_memory()).value();
  sc::channel_identity authority_identity = sc::channel_identity::create(authority_raw).value();
  std::shared_ptr<au::authority> project;
  std::shared_ptr<sk::embedded_kafka> kafka;
  std::shared_ptr<sk::kafka_client> kafka_client;
  std::shared_ptr<sk::stream_owners> owners;
};

/// Starts a relay client at `at` on `m`'s node that registers `name` along `service`, exposing
/// `expose` through the relay; quick pings and retries.
inline std::shared_ptr<relay::relay_client> start_relay(member_node& m, route service, std::string name,
                                                        std::vector<address> expose = {"tag"},
                                                        address at = "relay_client") {
  auto client = std::make_shared<relay::relay_client>(relay::relay_client_options{.service = std::move(service),
                                                                                  .name = std::move(name),
                                                                                  .expose = std::move(expose),
                                                                                  .ping_interval = 100ms,
                                                                                  .reply_timeout = 500ms,
                                                                                  .retry_backoff = 50ms,
                                                                                  .max_retry_backoff = 200ms});
  REQUIRE(m.net.n.block_on([&](context& ctx) { return ctx.start_processor_ptr(at, client); }));
  return client;
}

inline bool registered(const relay::relay_client& c) {
  return c.status().now == relay::relay_status::state::registered;
}

/// Waits until the hub has refused `c`, with a reason that contains `reason`.
inline bool refused_with(const relay::relay_client& c, const std::string& reason) {
  const bool refused = eventually([&] {
    const auto s = c.status();
    return s.now == relay::relay_status::state::refused && s.last_error.find(reason) != std::string::npos;
  });
  if (!refused) MESSAGE("the relay client's last error: " << c.status().last_error);
  return refused;
}

/// The route from a member's node to a hub service through `channel`.
inline route through(const sc::channel& channel, std::string_view service) {
  return route{channel.address(), address(std::string(service))};
}

/// Asks a stream service along `to` from `m`'s node.
inline result<stream::stream_reply> ask(member_node& m, const route& to, const stream::stream_request& r,
                                        duration timeout = 5s) {
  return m.net.n.send_and_receive<stream::stream_reply>(to, r, timeout);
}
inline result<stream::index_reply> ask(member_node& m, const route& to, const stream::index_request& r,
                                       duration timeout = 5s) {
  return m.net.n.send_and_receive<stream::index_reply>(to, r, timeout);
}

inline stream::stream_request stream_request(stream::stream_request::kind_t kind, std::string stream,
                                             std::string data = {}) {
  static std::atomic<std::uint64_t> ids{0};
  stream::stream_request r;
  r.kind = kind;
  r.request_id = ++ids;
  r.stream = std::move(stream);
  r.data.assign(data.begin(), data.end());
  r.limit = 100;
  return r;
}
inline stream::index_request index_request(stream::index_request::kind_t kind, std::string stream,
                                           std::string client_id, std::int64_t at = 0) {
  static std::atomic<std::uint64_t> ids{0};
  stream::index_request r;
  r.kind = kind;
  r.request_id = ++ids;
  r.stream = std::move(stream);
  r.client_id = std::move(client_id);
  r.index = at;
  return r;
}

inline task<result_or_failure<stream::connected_stream>> connect_task(context& ctx, route to_hub, std::string sender,
                                                                      std::string receiver,
                                                                      stream::client_options options) {
  co_return co_await stream::connect_stream(ctx, std::move(to_hub), std::move(sender), std::move(receiver),
                                            std::move(options));
}

/// Connects `m`'s stream client through `channel`: it pushes to `sender`, pulls `receiver`.
inline result_or_failure<stream::connected_stream> connect(member_node& m, const sc::channel& channel,
                                                           std::string sender, std::string receiver,
                                                           std::vector<std::string> parties, std::string client_id) {
  stream::client_options o;
  o.client_id = std::move(client_id);
  o.parties = std::move(parties);
  o.expose = {"tag"};
  o.poll_wait = 500ms;
  o.reply_timeout = 2s;
  o.retry_backoff = 50ms;
  o.max_retry_backoff = 500ms;
  route to_hub{channel.address()};
  return m.net.n.block_on([&](context& ctx) { return connect_task(ctx, to_hub, sender, receiver, o); });
}

}  // namespace nodus::test
