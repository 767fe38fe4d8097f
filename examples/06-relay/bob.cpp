// 06-relay bob: behind NAT, with no listening port. Connects out to the hub, registers the relay
// "forward_to_bob" there, and runs an echoer that prints what it receives.
//
//   06-relay-bob [HUB_HOST:PORT]  (default 127.0.0.1:4000)
//
// The relay client renews the registration every 2 s and registers again by itself when the
// hub restarts or the connection drops.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  const std::string hub = argc > 1 ? argv[1] : "127.0.0.1:4000";
  auto node = nodus::node::create({.name = "06-relay-bob"});
  if (!nodus::tcp_transport::create(node) || !node.start_worker("echoer", printing_echoer{})) return 1;

  auto relay = std::make_shared<nodus::relay::relay_client>(nodus::relay::relay_client_options{
      .service = nodus::route{nodus::tcp(hub), "forwarding_service"}, .name = "bob", .expose = {"echoer"}});
  auto started = node.block_on([&](nodus::context& ctx) { return ctx.start_processor_ptr("relay_client", relay); });
  if (!started) return 1;

  // Wait (at most 10 s) for the first registration, so Alice can be started after this line.
  for (int i = 0; i < 100 && relay->status().now != nodus::relay::relay_status::state::registered; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto status = relay->status();
  if (status.now != nodus::relay::relay_status::state::registered) {
    std::fprintf(stderr, "could not register at %s: %s\n", hub.c_str(), status.last_error.c_str());
    return 1;
  }
  std::printf("Bob is reachable as '%s' at %s\n", status.relay.c_str(), hub.c_str());
  std::fflush(stdout);
  nodus::stop_on_signals(node.create_context());
  node.run();
  return 0;
}
