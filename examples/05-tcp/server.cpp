// 05-tcp server: an echoer other processes reach over TCP.
//
//   05-tcp-server [HOST:PORT]     (default 127.0.0.1:4000; port 0 picks a free port)
//
// Prints the address it listens on, then serves until SIGINT or SIGTERM.

#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/transports/tcp.hpp"

namespace {

nodus::task<int> program(nodus::context& ctx, std::string listen) {
  // 1. The TCP transport: after this, routes may contain tcp("host:port") hops.
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options);
  if (!tcp) co_return 1;
  // 2. An echoer at "echoer", as in 02-worker.
  if (!co_await ctx.start_worker("echoer", nodus::services::echoer{})) co_return 1;
  // 3. Listen; connections accepted here reach only the echoer.
  auto bound = tcp.value().listen(listen, {.expose = {"echoer"}});
  if (!bound) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), bound.error().message().c_str());
    co_return 1;
  }
  // 4. Serve until SIGINT or SIGTERM (handled from here on, before anyone is told we listen).
  nodus::stop_on_signals(ctx);
  std::printf("Listening on %s\n", bound.value().c_str());
  std::fflush(stdout);
  co_return co_await nodus::serve_until_stopped(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string listen = argc > 1 ? argv[1] : "127.0.0.1:4000";
  return nodus::run_main({.name = "05-tcp-server"}, [listen](nodus::context& ctx) { return program(ctx, listen); });
}
