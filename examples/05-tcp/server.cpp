// 05-tcp server: an echoer other processes reach over TCP.
//
//   05-tcp-server [HOST:PORT]     (default 127.0.0.1:4000; port 0 picks a free port)
//
// Prints the address it listens on, then serves until SIGINT or SIGTERM.

#include <cstdio>
#include <string>

#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/transports/tcp.hpp"

int main(int argc, char** argv) {
  const std::string listen = argc > 1 ? argv[1] : "127.0.0.1:4000";
  auto node = nodus::node::create({.name = "05-tcp-server"});

  // 1. The TCP transport: after this, routes may contain tcp("host:port") hops.
  auto tcp = nodus::tcp_transport::create(node);
  // 2. An echoer at "echoer", as in 02-worker.
  if (!tcp || !node.start_worker("echoer", nodus::services::echoer{})) return 1;
  // 3. Listen; connections accepted here can reach every worker of this node.
  auto bound = tcp.value().listen(listen, {.expose = {"echoer"}});  // the only worker reachable over TCP
  if (!bound) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), bound.error().message().c_str());
    return 1;
  }
  std::printf("Listening on %s\n", bound.value().c_str());
  std::fflush(stdout);

  // 4. Serve until told to stop.
  nodus::stop_on_signals(node.create_context());
  node.run();
  return 0;
}
