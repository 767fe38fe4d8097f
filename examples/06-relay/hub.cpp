// 06-relay hub: the node both peers can reach. Its forwarding service lets Bob, who cannot
// accept connections, register a relay that Alice sends to.
//
//   06-relay-hub [HOST:PORT]      (default 127.0.0.1:4000; port 0 picks a free port)
//
// (`nodus hub` does the same and more.)

#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/transports/tcp.hpp"

namespace {

nodus::task<int> program(nodus::context& ctx, std::string listen) {
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options);
  if (!tcp) co_return 1;
  if (!co_await ctx.start_worker("forwarding_service", nodus::relay::forwarding_service{})) co_return 1;
  auto bound = tcp.value().listen(listen, {.expose = {"forwarding_service"}});  // relays are reachable by name
  if (!bound) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), bound.error().message().c_str());
    co_return 1;
  }
  nodus::stop_on_signals(ctx);
  std::printf("Hub listening on %s\n", bound.value().c_str());
  std::fflush(stdout);
  co_return co_await nodus::serve_until_stopped(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string listen = argc > 1 ? argv[1] : "127.0.0.1:4000";
  return nodus::run_main({.name = "06-relay-hub"}, [listen](nodus::context& ctx) { return program(ctx, listen); });
}
