// 06-relay alice: sends a message to Bob's echoer through the hub's relay and prints the echo.
//
//   06-relay-alice [HUB_HOST:PORT] [TEXT]   (default 127.0.0.1:4000, "Hello Bob!")

#include <chrono>
#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/transports/tcp.hpp"

namespace {

nodus::task<int> program(nodus::context& ctx, std::string hub, std::string text) {
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  if (auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options); !tcp) co_return 1;

  // hub (over TCP) => Bob's relay on the hub => Bob's echoer, on Bob's node.
  const nodus::route to_bob{nodus::tcp(hub), "forward_to_bob", "echoer"};
  auto reply = co_await ctx.send_and_receive<std::string>(to_bob, text, std::chrono::seconds(5));
  if (!reply) {
    std::fprintf(stderr, "no echo through %s: %s\n", to_bob.to_string().c_str(), reply.error().message().c_str());
    co_return 1;
  }
  std::printf("Alice received: %s\n", reply.value().body().c_str());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string hub = argc > 1 ? argv[1] : "127.0.0.1:4000";
  const std::string text = argc > 2 ? argv[2] : "Hello Bob!";
  return nodus::run_main({.name = "06-relay-alice"},
                         [hub, text](nodus::context& ctx) { return program(ctx, hub, text); });
}
