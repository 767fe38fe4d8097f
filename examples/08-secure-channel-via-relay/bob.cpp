// 08-secure-channel-via-relay bob: behind NAT, with no listening port. Connects out to the hub,
// registers the relay "forward_to_bob" there, and serves a secure channel listener and an
// echoer behind it. The hub forwards Alice's messages but can read none of them.
//
//   08-secure-channel-via-relay-bob [--hub HOST:PORT]   (default 127.0.0.1:4000)
//
// The hub is `nodus hub` or 06-relay-hub. Prints Bob's identifier, then "bob is ready" once the
// relay is registered; serves until SIGINT or SIGTERM.

#include <chrono>
#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/transports/tcp.hpp"

namespace sc = nodus::secure_channel;

namespace {

// Prints each message with the authenticated identifier of its sender, then echoes it back
// (through the channel it came from, then straight to Alice via the hub).
class printing_echoer final : public nodus::worker<std::string> {
public:
  nodus::task<nodus::result<>> handle_message(nodus::context& ctx, nodus::routed<std::string> message) override {
    const auto from = message.metadata().find(sc::identifier_key);
    std::printf("bob received '%s' from %s\n", message.body().c_str(),
                from == message.metadata().end() ? "(no secure channel)" : from->second.c_str());
    std::fflush(stdout);
    co_return co_await ctx.send(message.return_route(), message.body());
  }
};

nodus::task<int> program(nodus::context& ctx, std::string hub) {
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  if (auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options); !tcp) co_return 1;

  // 1. Bob's identity (in memory: a new identifier each run) and his secure channel listener,
  //    which accepts anyone whose credentials verify. The echoer gets what comes out of channels.
  auto identity = nodus::vault::identity::create(nodus::vault::vault::create_in_memory());
  if (!identity) co_return 1;
  auto bob = sc::channel_identity::create(std::move(identity).value());
  if (!bob) co_return 1;
  std::printf("bob identifier: %s\n", bob.value().id().c_str());
  //    Whoever reaches the listener may open a channel (trust everyone), and through a channel
  //    only the echoer is reachable.
  sc::options listener_options{.identity = bob.value(), .trust = sc::trust_policy::everyone(), .expose = {"echoer"}};
  const nodus::address at = "listener";
  auto listener = co_await sc::create_secure_channel_listener(ctx, at, listener_options);
  if (!listener) co_return 1;
  if (!co_await ctx.start_worker("echoer", printing_echoer{})) co_return 1;

  // 2. The relay, as in 06-relay: "forward_to_bob" on the hub now leads to this node, so
  //    route{tcp(hub), "forward_to_bob", "listener"} reaches the listener above, and nothing
  //    else on this node: the echoer is reachable only through a secure channel.
  const nodus::relay::relay_client relay(nodus::relay::relay_client_options{
      .service = nodus::route{nodus::tcp(hub), "forwarding_service"}, .name = "bob", .expose = {"listener"}});
  if (!co_await ctx.start_processor("relay_client", relay)) co_return 1;

  // Wait (at most 10 s) for the first registration, so Alice can be started after "bob is ready".
  nodus::stop_on_signals(ctx);
  auto registered = co_await relay.registered(ctx, std::chrono::seconds(10));
  if (!registered) {
    std::fprintf(stderr, "could not register at %s: %s\n", hub.c_str(), registered.error().message().c_str());
    co_return 1;
  }
  std::printf("bob is ready: reachable as '%s' at %s\n", registered.value().relay.c_str(), hub.c_str());
  std::fflush(stdout);

  // 3. Serve until told to stop.
  co_return co_await nodus::serve_until_stopped(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 1 && (argc != 3 || std::string(argv[1]) != "--hub")) {
    std::fprintf(stderr, "usage: %s [--hub HOST:PORT]\n", argv[0]);
    return 2;
  }
  const std::string hub = argc == 3 ? argv[2] : "127.0.0.1:4000";
  return nodus::run_main({.name = "08-secure-channel-via-relay-bob"},
                         [hub](nodus::context& ctx) { return program(ctx, hub); });
}
