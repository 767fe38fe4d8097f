// 05-tcp client: sends a message to the server's echoer over TCP and prints the echo.
//
//   05-tcp-client [HOST:PORT]     (default 127.0.0.1:4000)

#include <chrono>
#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/transports/tcp.hpp"

namespace {

nodus::task<int> program(nodus::context& ctx, std::string server) {
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  if (auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options); !tcp) co_return 1;

  // The first hop is the server: the transport connects on this first message. The reply comes
  // back over the same connection.
  const nodus::route to{nodus::tcp(server), "echoer"};
  const std::string text = "Hello over TCP!";
  auto reply = co_await ctx.send_and_receive<std::string>(to, text, std::chrono::seconds(5));
  if (!reply) {
    std::fprintf(stderr, "no echo from %s: %s\n", server.c_str(), reply.error().message().c_str());
    co_return 1;
  }
  std::printf("Client received: %s\n", reply.value().body().c_str());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string server = argc > 1 ? argv[1] : "127.0.0.1:4000";
  return nodus::run_main({.name = "05-tcp-client"}, [server](nodus::context& ctx) { return program(ctx, server); });
}
