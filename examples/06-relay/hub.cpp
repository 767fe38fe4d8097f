// 06-relay hub: the node both peers can reach. Its forwarding service lets Bob, who cannot
// accept connections, register a relay that Alice sends to.
//
//   06-relay-hub [HOST:PORT]      (default 127.0.0.1:4000; port 0 picks a free port)
//
// (`nodus hub` does the same and more.)

#include <cstdio>
#include <string>

#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/transports/tcp.hpp"

int main(int argc, char** argv) {
  const std::string listen = argc > 1 ? argv[1] : "127.0.0.1:4000";
  auto node = nodus::node::create({.name = "06-relay-hub"});
  auto tcp = nodus::tcp_transport::create(node);
  if (!tcp || !node.start_worker("forwarding_service", nodus::relay::forwarding_service{})) return 1;
  auto bound = tcp.value().listen(listen, {.expose = {"forwarding_service"}});  // relays are reachable by name
  if (!bound) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), bound.error().message().c_str());
    return 1;
  }
  std::printf("Hub listening on %s\n", bound.value().c_str());
  std::fflush(stdout);
  nodus::stop_on_signals(node.create_context());
  node.run();
  return 0;
}
