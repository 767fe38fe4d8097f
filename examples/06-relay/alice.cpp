// 06-relay alice: sends a message to Bob's echoer through the hub's relay and prints the echo.
//
//   06-relay-alice [HUB_HOST:PORT] [TEXT]   (default 127.0.0.1:4000, "Hello Bob!")

#include <cstdio>
#include <string>

#include "nodus/node/node.hpp"
#include "nodus/transports/tcp.hpp"

int main(int argc, char** argv) {
  const std::string hub = argc > 1 ? argv[1] : "127.0.0.1:4000";
  const std::string text = argc > 2 ? argv[2] : "Hello Bob!";
  auto node = nodus::node::create({.name = "06-relay-alice"});
  if (!nodus::tcp_transport::create(node)) return 1;

  // hub (over TCP) => Bob's relay on the hub => Bob's echoer, on Bob's node.
  const nodus::route to_bob{nodus::tcp(hub), "forward_to_bob", "echoer"};
  auto reply = node.send_and_receive<std::string>(to_bob, text, std::chrono::seconds(5));
  if (!reply) {
    std::fprintf(stderr, "no echo through %s: %s\n", to_bob.to_string().c_str(), reply.error().message().c_str());
    return 1;
  }
  std::printf("Alice received: %s\n", reply.value().c_str());
  return 0;
}
