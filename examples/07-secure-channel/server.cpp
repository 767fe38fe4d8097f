// 07-secure-channel server: an echoer that other processes reach over TCP through an end-to-end
// encrypted, mutually authenticated secure channel.
//
//   07-secure-channel-server [--listen HOST:PORT]   (default 127.0.0.1:4000; port 0 picks a free port)
//
// Prints its identifier and the address it listens on, then serves until SIGINT or SIGTERM.
// Each run makes a new identity in an in-memory vault (see the client for a persistent one).

#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/transports/tcp.hpp"

namespace sc = nodus::secure_channel;

namespace {

// Prints each message with the identifier of the peer that sent it, then echoes it back. The
// secure channel records the authenticated identifier in the message's local metadata, and
// the reply goes back through the channel (its address is first on the return route).
class printing_echoer final : public nodus::worker<std::string> {
public:
  nodus::task<nodus::result<>> handle_message(nodus::context& ctx, nodus::routed<std::string> message) override {
    const auto from = message.metadata().find(sc::identifier_key);
    std::printf("server received '%s' from %s\n", message.body().c_str(),
                from == message.metadata().end() ? "(no secure channel)" : from->second.c_str());
    std::fflush(stdout);
    co_return co_await ctx.send(message.return_route(), message.body());
  }
};

nodus::task<int> program(nodus::context& ctx, std::string listen) {
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options);
  if (!tcp) co_return 1;

  // 1. An identity: an Ed25519 key in a vault (here in memory) and a stable identifier. The
  //    channel_identity adds the X25519 key used in handshakes, attested by the identity.
  auto identity = nodus::vault::identity::create(nodus::vault::vault::create_in_memory());
  if (!identity) co_return 1;
  auto me = sc::channel_identity::create(std::move(identity).value());
  if (!me) co_return 1;
  std::printf("server identifier: %s\n", me.value().id().c_str());

  // 2. A secure channel listener at "listener": each initiator that completes the handshake gets
  //    its own channel. This one trusts every identity whose credentials verify.
  //    Through a channel, only the echoer is reachable.
  sc::options listener_options{.identity = me.value(), .trust = sc::trust_policy::everyone(), .expose = {"echoer"}};
  const nodus::address at = "listener";
  auto listener = co_await sc::create_secure_channel_listener(ctx, at, listener_options);
  if (!listener) {
    std::fprintf(stderr, "%s\n", listener.error().message().c_str());
    co_return 1;
  }

  // 3. The worker the client talks to through the channel.
  if (!co_await ctx.start_worker("echoer", printing_echoer{})) co_return 1;

  // 4. Listen on TCP. The channel runs over it: TCP carries only handshake messages and ciphertext.
  // Over TCP only the secure channel listener is reachable; the echoer only through a channel.
  auto bound = tcp.value().listen(listen, {.expose = {"listener"}});
  if (!bound) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), bound.error().message().c_str());
    co_return 1;
  }
  nodus::stop_on_signals(ctx);
  std::printf("server listening on %s\n", bound.value().c_str());
  std::fflush(stdout);

  // 5. Serve until told to stop.
  co_return co_await nodus::serve_until_stopped(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:4000";
  for (int i = 1; i < argc; i += 2) {
    if (std::string(argv[i]) != "--listen" || i + 1 == argc) {
      std::fprintf(stderr, "usage: %s [--listen HOST:PORT]\n", argv[0]);
      return 2;
    }
    listen = argv[i + 1];
  }
  return nodus::run_main({.name = "07-secure-channel-server"},
                         [listen](nodus::context& ctx) { return program(ctx, listen); });
}
