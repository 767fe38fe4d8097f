// The hub turned hostile: whoever carries a secure channel's frames (the hub, a relay, whoever
// can push to a stream) tries to make a channel end speak for its owner, to reach what the
// channel protects, and to close it. Three real nodes over loopback TCP; the hub's own
// context is the attacker, and it knows every address it could learn or guess.

#include <atomic>

#include <doctest/doctest.h>

#include "fake_stream_service.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/core/transport_message.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/stream/client.hpp"
#include "nodus/stream/protocol.hpp"
#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;
namespace sc = nodus::secure_channel;

namespace {

// Bob's treasure: answers "the secret" to whoever reaches it, and counts who did. Guarded as the
// issue describes it: only messages from Alice's identity through a secure channel.
class keeper final : public worker<std::string> {
public:
  explicit keeper(std::shared_ptr<std::atomic<int>> reached) : reached_(std::move(reached)) {}
  task<result<>> handle_message(context& ctx, routed<std::string> m) override {
    reached_->fetch_add(1);
    co_return co_await ctx.send(m.return_route(), std::string("the secret"));
  }

private:
  std::shared_ptr<std::atomic<int>> reached_;
};

sc::channel_identity new_identity() {
  return sc::channel_identity::create(vault::identity::create(vault::vault::create_in_memory()).value()).value();
}

// The accepted connection on `hub` whose peer is not `except` (there are two: Alice's, Bob's).
address accepted_connection(const tcp_node& hub, const address& except = {}) {
  for (const auto& c : hub.transport.connections())
    if (!c.outgoing && c.worker != except) return c.worker;
  return {};
}

task<result<>> send_text(context& ctx, route to, std::string text) { co_return co_await ctx.send(std::move(to), text); }

task<result<>> forward_as_is(context& ctx, local_message m) { co_return co_await ctx.forward(std::move(m)); }

task<result_or_failure<routed<std::string>>> ask_why(context& ctx, route to, std::string text, duration timeout) {
  co_return co_await ctx.send_and_receive_or_failure<std::string>(std::move(to), std::move(text), timeout);
}

/// Alice and Bob through a hub's relay, with a channel between them and Bob's keeper behind it.
struct three_nodes {
  tcp_node hub{"127.0.0.1:0", {}, /*with_echoer=*/false, {"forwarding_service"}};
  tcp_node bob;
  tcp_node alice;
  sc::channel_identity alice_id = new_identity(), bob_id = new_identity();
  std::shared_ptr<std::atomic<int>> reached = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<relay::relay_client> relay;
  std::optional<sc::listener> listener;
  std::optional<sc::channel> channel;  // Alice's end
  address alice_conn, bob_conn;        // the hub's accepted connections from each

  three_nodes() {
    REQUIRE(hub.n.start_worker("forwarding_service", relay::forwarding_service{}));
    worker_options guarded;
    guarded.access = sc::only_from({alice_id.id()});
    REQUIRE(bob.n.start_worker("keeper", keeper(reached), guarded));
    sc::options bob_options{
        .identity = bob_id, .trust = sc::trust_policy::identifier(alice_id.id()), .expose = {"keeper"}};
    auto l =
        bob.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", bob_options); });
    REQUIRE(l);
    listener.emplace(l.value());
    relay = std::make_shared<relay::relay_client>(relay::relay_client_options{
        .service = route{tcp(hub.bound), "forwarding_service"}, .name = "bob", .expose = {"listener"}});
    REQUIRE(bob.n.block_on([&](context& ctx) { return ctx.start_processor_ptr("relay_client", relay); }));
    REQUIRE(eventually([&] { return relay->status().now == relay::relay_status::state::registered; }));
    bob_conn = accepted_connection(hub);
    REQUIRE_FALSE(bob_conn.value().empty());

    sc::options alice_options{.identity = alice_id, .trust = sc::trust_policy::identifier(bob_id.id())};
    const route to_bob{tcp(hub.bound), "forward_to_bob", "listener"};
    auto ch = alice.n.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, to_bob, alice_options); });
    REQUIRE_MESSAGE(ch, ch.error().message());
    channel.emplace(ch.value());
    REQUIRE(eventually([&] { return listener->channels().size() == 1; }));
    alice_conn = accepted_connection(hub, bob_conn);
    REQUIRE_FALSE(alice_conn.value().empty());
  }

  /// What Alice gets from the keeper through the channel.
  result<std::string> ask_keeper() {
    return alice.n.send_and_receive<std::string>(route{channel->address(), "keeper"}, std::string("open"), 5s);
  }
  /// The hub sends `text` along `to` from `attacker`, as a hostile operator would.
  void hub_sends(context& attacker, route to, std::string text = "forged") {
    REQUIRE(hub.n.block_on([&](context&) { return send_text(attacker, to, text); }));
  }
};

}  // namespace

TEST_CASE("the hub cannot make a channel end encrypt for it, reach what the channel guards, or close it") {
  three_nodes t;
  REQUIRE(t.ask_keeper().value() == "the secret");  // the channel works
  REQUIRE(t.reached->load() == 1);
  context attacker = t.hub.n.create_context("attacker.");
  const auto alice_encryptor = t.channel->address();
  const auto bob_encryptor = t.listener->channels().front().address();

  // Independent addresses: what the hub sees on return routes (the decryptors) gives the
  // encryptors away no more.
  CHECK(alice_encryptor.value().find(t.channel->frames_address().value()) == std::string::npos);
  CHECK(t.channel->frames_address().value().find(alice_encryptor.value()) == std::string::npos);

  // 1. Into Alice's encryptor over her connection: it would seal "forged" as Alice, the keeper
  //    (only_from Alice) would answer, and the answer would come back to the hub in clear.
  t.hub_sends(attacker, route{t.alice_conn, alice_encryptor, "keeper"});
  CHECK(eventually([&] {
    return t.alice.logs.contains("flow control: '" + alice_encryptor.value() +
                                 "' refused a message from tcp connection to " + t.hub.bound) &&
           t.alice.logs.contains("it accepts messages from this node only");
  }));
  // 2. The same into Bob's end, towards Alice's side.
  t.hub_sends(attacker, route{t.bob_conn, bob_encryptor, "anything"});
  CHECK(eventually([&] { return t.bob.logs.contains("flow control: '" + bob_encryptor.value() + "' refused"); }));
  // 3. Straight to the keeper through Bob's relay connection: not exposed to it.
  t.hub_sends(attacker, route{t.bob_conn, "keeper"});
  CHECK(eventually([&] {
    return t.bob.logs.contains("flow control: 'keeper' refused a message from tcp connection to " + t.hub.bound) &&
           t.bob.logs.contains("it is not exposed to that origin");
  }));
  // 4. Close Alice's end, unauthenticated.
  t.hub_sends(attacker, route{t.alice_conn, address(alice_encryptor.value() + ".close")});
  CHECK(eventually(
      [&] { return t.alice.logs.contains("flow control: '" + alice_encryptor.value() + ".close' refused"); }));

  // Every forged message was refused where it landed, so none can arrive later: the channel is
  // open, the keeper was reached once more (by Alice, now), and the hub got nothing back.
  CHECK(t.channel->open());
  CHECK(t.listener->channels().front().open());
  REQUIRE(t.ask_keeper().value() == "the secret");
  CHECK(t.reached->load() == 2);
  auto leaked = t.hub.n.block_on([&](context&) { return attacker.receive_message(std::chrono::milliseconds(0)); });
  CHECK_FALSE(leaked);
  CHECK_FALSE(t.hub.logs.contains("the secret"));
}

TEST_CASE("a delivery error the hub forges to a channel end is ignored; one from the peer comes through the channel") {
  three_nodes t;
  REQUIRE(t.ask_keeper().value() == "the secret");
  context attacker = t.hub.n.create_context("attacker.");

  // The hub tells Alice's channel end, unauthenticated, that her messages cannot be delivered.
  local_message forged{route{t.alice_conn, t.channel->frames_address()},
                       route{attacker.address()},
                       encode_delivery_error({errc::unknown_address, "forged by the hub"}),
                       {}};
  forged.kind = message_kind::delivery_error;
  REQUIRE(t.hub.n.block_on([&](context&) { return forward_as_is(attacker, forged); }));
  CHECK(t.alice.logs.eventually_contains("ignored an unauthenticated delivery error notice: forged by the hub"));
  CHECK(t.channel->open());
  REQUIRE(t.ask_keeper().value() == "the secret");

  // Bob's node has no `nosuchworker`: its notice travels back inside the channel, so Alice
  // learns it at once (30 s would be the timeout).
  auto missing = t.alice.n.block_on([&](context& ctx) {
    return ask_why(ctx, route{t.channel->address(), "nosuchworker"}, "hello", 30s);
  });
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == errc::unknown_address);
  CHECK(missing.error().reason == "no worker at 'nosuchworker'");
  CHECK(t.channel->open());
  REQUIRE(t.ask_keeper().value() == "the secret");
}

TEST_CASE("a handshake with a listener that does not exist fails at once with the far node's word") {
  three_nodes t;
  sc::options o{.identity = t.alice_id, .trust = sc::trust_policy::identifier(t.bob_id.id()), .handshake_timeout = 30s};
  const route to_nobody{tcp(t.hub.bound), "forward_to_bob", "nolistener"};
  auto ch = t.alice.n.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, to_nobody, o); });
  REQUIRE_FALSE(ch);
  CHECK(ch.error().code == errc::unknown_address);
  CHECK(ch.error().message().find("no worker at 'nolistener'") != std::string::npos);
}

TEST_CASE("a stranger who pushes to a channel's stream reaches nothing but the listener") {
  const std::vector<address> hub_services{"stream_kafka", "stream_kafka_index"};
  tcp_node hub("127.0.0.1:0", {}, /*with_echoer=*/false, hub_services);
  fake_stream_service streams(hub.n);
  tcp_node bob, alice, stranger;
  auto reached = std::make_shared<std::atomic<int>>(0);
  auto alice_id = new_identity(), bob_id = new_identity();
  worker_options guarded;
  guarded.access = sc::only_from({alice_id.id()});
  REQUIRE(bob.n.start_worker("keeper", keeper(reached), guarded));
  sc::options bob_options{
      .identity = bob_id, .trust = sc::trust_policy::identifier(alice_id.id()), .expose = {"keeper"}};
  REQUIRE(
      bob.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", bob_options); }));

  stream::client_options o{.client_id = "bob", .poll_wait = 200ms, .expose = {"listener"}};
  auto connect = [&](node& n, std::string sender, std::string receiver, stream::client_options opts) {
    auto s = n.block_on(
        [&](context& ctx) { return stream::connect_stream(ctx, route{tcp(hub.bound)}, sender, receiver, opts); });
    REQUIRE_MESSAGE(s, s.error().message());
    return s.value();
  };
  auto bob_stream = connect(bob.n, "bob-to-alice", "alice-to-bob", o);
  o.client_id = "alice";
  o.expose.clear();  // Alice exposes nothing: she only gets replies
  auto alice_stream = connect(alice.n, "alice-to-bob", "bob-to-alice", o);
  sc::options alice_options{
      .identity = alice_id, .trust = sc::trust_policy::identifier(bob_id.id()), .handshake_timeout = 20s};
  auto channel = alice.n.block_on([&](context& ctx) {
    return sc::create_secure_channel(ctx, route{alice_stream.sender(), "listener"}, alice_options);
  });
  REQUIRE_MESSAGE(channel, channel.error().message());
  auto ask = [&] {
    return alice.n.send_and_receive<std::string>(route{channel.value().address(), "keeper"}, std::string("open"), 20s);
  };
  REQUIRE(ask().value() == "the secret");

  // The stranger pushes messages into the stream Alice reads, aimed at her encryptor and at the
  // keeper-side's workers, and into the one Bob reads, aimed at the keeper.
  auto push = [&](const std::string& stream_name, route onward) {
    transport_message forged{std::move(onward), route{"stranger_inbox"}, message_codec<std::string>::encode("forged")};
    stream::stream_request request;
    request.kind = stream::stream_request::kind_t::push;
    request.request_id = 1;
    request.stream = stream_name;
    request.data = encode(forged);
    auto reply = stranger.n.send_and_receive<stream::stream_reply>(route{tcp(hub.bound), "stream_kafka"}, request, 5s);
    REQUIRE(reply);
    REQUIRE_FALSE(reply.value().error);
  };
  push("bob-to-alice", route{channel.value().address(), "keeper"});
  push("alice-to-bob", route{"keeper"});
  CHECK(eventually(
      [&] {
        return alice.logs.contains("flow control: '" + channel.value().address().value() +
                                   "' refused a message from stream 'bob-to-alice'");
      },
      20s));
  CHECK(eventually(
      [&] { return bob.logs.contains("flow control: 'keeper' refused a message from stream 'alice-to-bob'"); }, 20s));
  REQUIRE(ask().value() == "the secret");
  CHECK(reached->load() == 2);  // Alice's two questions, nothing else
  CHECK(channel.value().open());
}
