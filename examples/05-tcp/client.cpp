// 05-tcp client: sends a message to the server's echoer over TCP and prints the echo.
//
//   05-tcp-client [HOST:PORT]     (default 127.0.0.1:4000)

#include <cstdio>
#include <string>

#include "nodus/node/node.hpp"
#include "nodus/transports/tcp.hpp"

int main(int argc, char** argv) {
  const std::string server = argc > 1 ? argv[1] : "127.0.0.1:4000";
  auto node = nodus::node::create({.name = "05-tcp-client"});
  if (!nodus::tcp_transport::create(node)) return 1;

  // The first hop is the server: the transport connects on this first message. The reply comes
  // back over the same connection.
  auto reply = node.send_and_receive<std::string>(nodus::route{nodus::tcp(server), "echoer"},
                                                  std::string("Hello over TCP!"), std::chrono::seconds(5));
  if (!reply) {
    std::fprintf(stderr, "no echo from %s: %s\n", server.c_str(), reply.error().message().c_str());
    return 1;
  }
  std::printf("Client received: %s\n", reply.value().c_str());
  return 0;
}
