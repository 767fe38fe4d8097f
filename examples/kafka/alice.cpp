// examples/kafka/alice.cpp — the Rust guide's Alice ("End-to-End Encryption through Kafka"), in C++.
//
//   alice [--hub HOST:PORT]   (default 127.0.0.1:4000)
//         [--client-id ID] [--echo-timeout SECONDS]
//         [--identity NAME --vault DIR] (--trust BOB_ID | --trust-everyone)   (identity_options.hpp)
//         | --project project.json --identity NAME [--party BOB_ID]          (membership.hpp)
//
// Alice reads Bob's two stream names from standard input, connects to the same Kafka-backed
// stream on the hub (with the names swapped), creates a secure channel with Bob's listener
// through it, then sends each line she reads to Bob's echoer and prints the echo. At the end of
// her input (e.g. when it is a pipe) she exits, once every echo has come back.
// Exit code 0 then; 1, with one line on stderr, if anything fails. An echo that does not come
// back within --echo-timeout is noted on stdout ("Alice received no echo for: ...") and she
// carries on with her next line, so the channel reports the lost message as a gap when the
// next one arrives; she then exits 1 at the end of her input.
//
// Not in the guide:
// - --client-id replaces the unique id whose saved index her receiver resumes from, and
//   --echo-timeout (default 30) is how long she waits for each echo, e.g. longer when the hub
//   may be restarted meanwhile.
// - She connects to the hub before she asks for the names: a hub that is not there ends her at
//   once, with the reason ("alice: cannot reach the hub at 127.0.0.1:4000: connection refused",
//   exit 1; hub_reach.hpp).
// - While the handshake travels through Kafka she says what it is doing, on stdout in lines that
//   start with "alice: " ("handshake sent to Bob through stream '...'; waiting for his answer
//   (1/3)", ...), and says at once when nobody reads the stream she writes to ("alice: nobody
//   reads stream '...' on the hub (is Bob running, and are the names right?)"). She then keeps
//   waiting, for a reader to show up, until the end of the handshake's 10 s, and fails (exit 1,
//   the reason on stderr) if none did. She waits 10 s more each time the hub confirms her
//   handshake and Bob's stream is being read, up to 60 s in all (handshake_progress.hpp).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <spdlog/spdlog.h>

#include "nodus/node/node.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/stream/client.hpp"
#include "nodus/transports/tcp.hpp"

#include "handshake_progress.hpp"
#include "hub_reach.hpp"
#include "identity_options.hpp"
#include "membership.hpp"

using namespace nodus;
namespace sc = nodus::secure_channel;

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "alice: %s\n", why.c_str());
  return 1;
}

// Prints `prompt` and reads one line from standard input; false at the end of the input.
bool read_line(const char* prompt, std::string& line) {
  std::printf("%s\n", prompt);
  std::fflush(stdout);
  if (!std::getline(std::cin, line)) return false;
  line.erase(0, line.find_first_not_of(" \t\r"));
  line.erase(line.find_last_not_of(" \t\r") + 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string hub = "127.0.0.1:4000";
  std::string fixed_client_id, echo_timeout = "30";  // not in the guide: see above
  examples::identity_options who;
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    std::string* value = option == "--hub"            ? &hub
                         : option == "--client-id"    ? &fixed_client_id
                         : option == "--echo-timeout" ? &echo_timeout
                                                      : nullptr;
    if (value && i + 1 < argc)
      *value = argv[++i];
    else if (!who.take(argc, argv, i))
      return std::fprintf(stderr, "usage: alice [--hub HOST:PORT] [--client-id ID] [--echo-timeout SECONDS] %s\n",
                          examples::identity_options::usage),
             2;
  }
  if (auto mistake = who.mistake("Bob"); !mistake.empty())
    return std::fprintf(stderr, "alice: %s\n", mistake.c_str()), 2;
  char* parsed_to = nullptr;
  const long echo_seconds = std::strtol(echo_timeout.c_str(), &parsed_to, 10);
  if (echo_timeout.empty() || *parsed_to || echo_seconds < 1 || echo_seconds > 86400)
    return std::fprintf(stderr, "alice: --echo-timeout takes a number of seconds (1..86400)\n"), 2;

  auto node = node::create({.name = "alice"});
  // Alice talks on stdout; the node's log (stderr) shows warnings unless NODUS_LOG says otherwise.
  if (!std::getenv("NODUS_LOG")) node.log().set_level(spdlog::level::warn);

  // Initialize the TCP Transport.
  auto transport = tcp_transport::create(node);
  if (!transport) return fail("cannot start the TCP transport: " + transport.error().message());

  // Create a Vault to safely store secret keys for Alice, and an identity to represent Alice
  // (in memory as in the guide, or stored with --identity and --vault).
  auto alice = who.load();
  if (!alice) return fail(alice.error().message());
  std::printf("Alice's identifier is: %s\n", alice.value().id().c_str());

  // Not in the guide: a hub that is not there is said at once (hub_reach.hpp).
  auto reached = node.block_on([&](context& ctx) { return examples::reach_hub(ctx, transport.value(), hub); });
  if (!reached) return fail(reached.error().message());

  // Not in the guide: with --project, Alice presents her credential and accepts only members.
  std::optional<nodus::authority::joined_project> member;
  if (!who.project.empty()) {
    auto joined =
        node.block_on([&](context& ctx) { return examples::join_project(ctx, transport.value(), who, alice.value()); });
    if (!joined) return fail("project " + who.project + ": " + joined.error().message());
    member = std::move(joined).value();
    std::printf("Alice is a member of the project: she accepts only members\n");
  }

  // This program expects that Bob has created a bi-directional stream that will relay messages
  // for his secure channel listener, on the hub. From standard input, read the bi-directional
  // stream names for Bob's secure channel listener.
  std::string sender_name, receiver_name;
  if (!read_line("\nEnter the stream sender name for Bob: ", sender_name) ||
      !read_line("\nEnter the stream receiver name for Bob: ", receiver_name))
    return fail("expected Bob's two stream names on standard input");

  // Use the TCP address of the hub to get a route to Bob's secure channel listener via the
  // Kafka stream client: Alice's sender stream is Bob's receiver stream, and the other way round.
  route route_to_bob_listener{tcp(hub)};
  stream::client_options stream_options{.stream_service = "stream_kafka",
                                        .index_service = "stream_kafka_index",
                                        .client_id = stream::unique_name("alice")};
  if (!fixed_client_id.empty()) stream_options.client_id = fixed_client_id;  // not in the guide
  // Not in the guide: a member reaches the hub's stream services through a secure channel to it.
  std::optional<sc::channel> to_hub;
  if (member) {
    auto opened =
        node.block_on([&](context& ctx) { return examples::open_hub_channel(ctx, hub, alice.value(), *member); });
    if (!opened) return fail(opened.error().message());
    to_hub = opened.value();
    route_to_bob_listener = route{to_hub->address()};
    if (!who.party.empty()) stream_options.parties = {who.party};
  }
  auto connected = node.block_on([&](context& ctx) {
    return stream::connect_stream(ctx, route_to_bob_listener, receiver_name, sender_name, stream_options);
  });
  if (!connected) return fail("no stream on the hub at " + hub + ": " + connected.error().message());
  const auto sender = connected.value().sender();

  // As Alice, connect to Bob's secure channel listener, and perform an Authenticated Key
  // Exchange to establish an encrypted secure channel with Bob.
  const route r{sender, "listener"};
  sc::options channel_options{.identity = alice.value(), .trust = member ? member->trust : who.policy()};
  if (member) channel_options.credentials = member->credentials;
  // Not in the guide: progress lines while the handshake travels through Kafka, and patience as
  // long as it is on its way (handshake_progress.hpp).
  const examples::handshake_progress progress(connected.value(), hub, channel_options.handshake_timeout);
  channel_options.keep_waiting = progress.keep_waiting();
  if (auto watching = node.block_on([&](context& ctx) { return progress.start(ctx); }); !watching)
    return fail("cannot watch the handshake: " + watching.error().message());
  auto channel = node.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, r, channel_options); });
  (void)node.block_on([&](context& ctx) { return progress.stop(ctx); });
  if (!channel) return fail("no secure channel with Bob: " + channel.error().message());
  progress.established();
  std::printf("\n[✓] End-to-end encrypted secure channel was established.\n\n");

  std::size_t sent = 0, missing = 0;
  std::string first_missing;
  for (;;) {
    // Read a message from standard input.
    std::string message;
    if (!read_line("Type a message for Bob's echoer:", message)) break;

    // Send the provided message, through the channel, to Bob's echoer, and wait for the echo.
    auto reply = node.send_and_receive<std::string>(route{channel.value().address(), "echoer"}, message,
                                                    std::chrono::seconds(echo_seconds));
    ++sent;
    if (!reply) {  // not in the guide: noted, and Alice carries on with her next line
      if (missing++ == 0) first_missing = "'" + message + "' (" + reply.error().message() + ")";
      std::printf("Alice received no echo for: %s\n\n", message.c_str());
    } else {
      std::printf("Alice received an echo: %s\n\n", reply.value().c_str());
    }
    std::fflush(stdout);
  }
  if (missing > 0)
    return fail("no echo from Bob for " + std::to_string(missing) + " of " + std::to_string(sent) +
                " message(s), the first " + first_missing);
  return 0;
}
