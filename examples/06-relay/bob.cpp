// 06-relay bob: behind NAT, with no listening port. Connects out to the hub, registers the relay
// "forward_to_bob" there, and runs an echoer that prints what it receives.
//
//   06-relay-bob [HUB_HOST:PORT]  (default 127.0.0.1:4000)
//
// The relay client renews the registration every 2 s and registers again by itself when the
// hub restarts or the connection drops.

#include <chrono>
#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/transports/tcp.hpp"

namespace {

// Prints each message, then echoes it back along its return route (to Alice, via the hub).
class printing_echoer final : public nodus::worker<std::string> {
public:
  nodus::task<nodus::result<>> handle_message(nodus::context& ctx, nodus::routed<std::string> message) override {
    std::printf("Bob received: %s\n", message.body().c_str());
    std::fflush(stdout);
    co_return co_await ctx.send(message.return_route(), message.body());
  }
};

nodus::task<int> program(nodus::context& ctx, std::string hub) {
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options);
  if (!tcp) co_return 1;
  if (!co_await ctx.start_worker("echoer", printing_echoer{})) co_return 1;

  // The relay client; copies share its state, so `relay` still reports on the one started.
  const nodus::relay::relay_client relay(nodus::relay::relay_client_options{
      .service = nodus::route{nodus::tcp(hub), "forwarding_service"}, .name = "bob", .expose = {"echoer"}});
  if (!co_await ctx.start_processor("relay_client", relay)) co_return 1;

  // Wait (at most 10 s) for the first registration, so Alice can be started after this line.
  nodus::stop_on_signals(ctx);
  auto registered = co_await relay.registered(ctx, std::chrono::seconds(10));
  if (!registered) {
    std::fprintf(stderr, "could not register at %s: %s\n", hub.c_str(), registered.error().message().c_str());
    co_return 1;
  }
  std::printf("Bob is reachable as '%s' at %s\n", registered.value().relay.c_str(), hub.c_str());
  std::fflush(stdout);
  co_return co_await nodus::serve_until_stopped(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string hub = argc > 1 ? argv[1] : "127.0.0.1:4000";
  return nodus::run_main({.name = "06-relay-bob"}, [hub](nodus::context& ctx) { return program(ctx, hub); });
}
