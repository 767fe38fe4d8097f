// examples/kafka/bob.cpp — the Rust guide's Bob ("End-to-End Encryption through Kafka"), in C++.
//
//   bob [--hub HOST:PORT]   (default 127.0.0.1:4000: a `nodus hub`, which keeps streams in Kafka)
//       [--sender-name NAME --receiver-name NAME --client-id ID]
//       [--identity NAME --vault DIR] (--trust ALICE_ID | --trust-everyone)   (identity_options.hpp)
//       | --project project.json --identity NAME --party ALICE_ID              (membership.hpp)
//
// Bob creates a secure channel listener and asks the hub for a bidirectional, Kafka-backed
// stream. He prints the stream's two names for Alice, then echoes whatever reaches his echoer,
// until Ctrl-C. Neither the hub nor Kafka can read, change, forge, drop or replay unnoticed what
// Alice and Bob say through the channel.
//
// Not in the guide: --sender-name, --receiver-name and --client-id replace the unique names Bob
// makes up (each defaults to a fresh one). A Bob restarted with the names and client id of a
// previous run uses the same two streams and resumes from his saved index, so an Alice who
// knows the names need not be told new ones.
//
// Not in the guide: he connects to the hub first, so that a hub that is not there ends him at
// once, with the reason ("bob: cannot reach the hub at 127.0.0.1:4000: connection refused",
// exit 1; hub_reach.hpp).
//
// What is reachable from the hub and Kafka: only Bob's secure channel listener, through the
// stream; his echoer only through a secure channel. Whoever else pushes to his stream reaches
// nothing else on his node.

#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/stream/client.hpp"
#include "nodus/transports/tcp.hpp"

#include "hub_reach.hpp"
#include "identity_options.hpp"
#include "membership.hpp"

using namespace nodus;
namespace sc = nodus::secure_channel;

namespace {

// An Echoer worker that prints any message it receives and echoes it back on its return route.
class echoer final : public worker<std::string> {
public:
  task<result<>> handle_message(context& ctx, routed<std::string> msg) override {
    std::printf("\n[✓] Address: %s, Received: %s\n", ctx.address().value().c_str(), msg.body().c_str());
    std::fflush(stdout);
    // Echo the message body back on its return_route.
    co_return co_await ctx.send(msg.return_route(), msg.body());
  }
};

int fail(const std::string& why) {
  std::fprintf(stderr, "bob: %s\n", why.c_str());
  return 1;
}

struct settings {
  std::string hub;
  std::string fixed_sender_name, fixed_receiver_name, fixed_client_id;  // not in the guide: see above
  examples::identity_options who;
};

// The guide's `#[ockam::node] async fn main(ctx: Context)`: every step co_awaited in order.
task<int> program(context& ctx, settings s) {
  // Initialize the TCP Transport.
  tcp_options transport_options;  // named: no braced temporaries in a co_await (g++ 12)
  auto transport = co_await tcp_transport::create(ctx, transport_options);
  if (!transport) co_return fail("cannot start the TCP transport: " + transport.error().message());

  // Create a Vault to safely store secret keys for Bob, and an identity to represent Bob
  // (in memory as in the guide, or stored with --identity and --vault).
  auto bob = s.who.load();
  if (!bob) co_return fail(bob.error().message());
  std::printf("Bob's identifier is: %s\n", bob.value().id().c_str());
  std::fflush(stdout);

  // Not in the guide: a hub that is not there is said at once (hub_reach.hpp).
  if (auto reached = co_await examples::reach_hub(ctx, transport.value(), s.hub); !reached)
    co_return fail(reached.error().message());

  // Not in the guide: with --project, Bob presents his credential and accepts only members.
  std::optional<nodus::authority::joined_project> member;
  if (!s.who.project.empty()) {
    auto joined = co_await examples::join_project(ctx, transport.value(), s.who, bob.value());
    if (!joined) co_return fail("project " + s.who.project + ": " + joined.error().message());
    member = std::move(joined).value();
    std::printf("Bob is a member of the project: he accepts only members\n");
    std::fflush(stdout);
  }

  // Create a secure channel listener for Bob that will wait for requests to initiate an
  // Authenticated Key Exchange. Through its channels, only the echoer is reachable.
  sc::options listener_options{.identity = bob.value(), .trust = s.who.policy(), .expose = {"echoer"}};
  if (member) {
    listener_options.trust = member->trust;
    listener_options.credentials = member->credentials;
  }
  const address at = "listener";
  auto listener = co_await sc::create_secure_channel_listener(ctx, at, listener_options);
  if (!listener) co_return fail(listener.error().message());

  // Start a worker, of type Echoer, at address "echoer" (before the stream, which delivers to it).
  if (auto started = co_await ctx.start_worker("echoer", echoer{}); !started) co_return fail(started.error().message());

  // The computer running this program is likely within a private network and not accessible
  // over the internet. To let Alice initiate a secure channel with Bob, Bob connects to the hub
  // as a TCP client and asks its Kafka services for a bi-directional stream. All messages sent
  // to and arriving at the stream are relayed using the TCP connection Bob created as a client.
  route node_in_hub{tcp(s.hub)};
  auto sender_name = stream::unique_name("bob-to-alice");
  auto receiver_name = stream::unique_name("alice-to-bob");
  stream::client_options stream_options{.stream_service = "stream_kafka",
                                        .index_service = "stream_kafka_index",
                                        .client_id = stream::unique_name("bob"),
                                        .expose = {"listener"}};  // all the stream may reach
  // Not in the guide: the same streams and index as a previous run, when asked for.
  if (!s.fixed_sender_name.empty()) sender_name = s.fixed_sender_name;
  if (!s.fixed_receiver_name.empty()) receiver_name = s.fixed_receiver_name;
  if (!s.fixed_client_id.empty()) stream_options.client_id = s.fixed_client_id;
  // Not in the guide: a member reaches the hub's stream services through a secure channel to it,
  // and his streams are his and Alice's only (membership.hpp).
  if (member) {
    auto to_hub = co_await examples::open_hub_channel(ctx, s.hub, bob.value(), *member);
    if (!to_hub) co_return fail(to_hub.error().message());
    node_in_hub = route{to_hub.value().address()};
    stream_options.parties = {s.who.party};
  }
  auto connected = co_await stream::connect_stream(ctx, node_in_hub, sender_name, receiver_name, stream_options);
  if (!connected) co_return fail("no stream on the hub at " + s.hub + ": " + connected.error().message());

  // This program runs until you stop it with Ctrl-C.
  stop_on_signals(ctx);
  std::printf("\n[✓] Stream client was created on the node at: %s\n", s.hub.c_str());
  std::printf("\nStream sender name is: %s\n", sender_name.c_str());
  std::printf("Stream receiver name is: %s\n\n", receiver_name.c_str());
  std::fflush(stdout);
  co_return co_await serve_until_stopped(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  settings s{.hub = "127.0.0.1:4000"};
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    std::string* value = option == "--hub"             ? &s.hub
                         : option == "--sender-name"   ? &s.fixed_sender_name
                         : option == "--receiver-name" ? &s.fixed_receiver_name
                         : option == "--client-id"     ? &s.fixed_client_id
                                                       : nullptr;
    if (value && i + 1 < argc)
      *value = argv[++i];
    else if (!s.who.take(argc, argv, i))
      return std::fprintf(stderr,
                          "usage: bob [--hub HOST:PORT] [--sender-name NAME --receiver-name NAME --client-id ID] %s\n",
                          examples::identity_options::usage),
             2;
  }
  if (auto mistake = s.who.mistake("Alice"); !mistake.empty())
    return std::fprintf(stderr, "bob: %s\n", mistake.c_str()), 2;
  if (!s.who.project.empty() && s.who.party.empty())
    return std::fprintf(stderr, "bob: --project needs --party ALICE_ID: the hub lets no one else use Bob's streams\n"),
           2;
  return run_main({.name = "bob"}, [s](context& ctx) { return program(ctx, s); });
}
