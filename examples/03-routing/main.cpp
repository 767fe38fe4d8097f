// 03-routing: a message travels through three hops to the echoer; the reply comes back the
// same way along the return route.
//
// The rule every hop follows: remove yourself from the front of the onward route, put your
// own address on the front of the return route, pass the message on. Replies go to the return
// route, so they retrace the path without anyone having planned it.

#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/services/hop.hpp"

namespace {

nodus::task<int> program(nodus::context& ctx) {
  // 1. An echoer and three hops, each at its own address. `.value()` on an error throws
  //    nodus::error, which run_main prints before exiting with 1.
  (co_await ctx.start_worker("echoer", nodus::services::echoer{})).value();
  static constexpr const char* hops[] = {"h1", "h2", "h3"};  // not a braced list: g++ 12 and co_await
  for (const char* name : hops) (co_await ctx.start_worker(name, nodus::services::hop{})).value();

  // 2. The route, written the way users type it on a command line.
  const auto onward = nodus::route::parse("h1 => h2 => h3 => echoer").value();
  std::printf("Onward route: %s\n", onward.to_string().c_str());

  // 3. Send from the program's context and wait for the reply; print both routes.
  const std::string text = "Hello through three hops";
  (co_await ctx.send(onward, text)).value();
  auto reply = (co_await ctx.receive<std::string>()).value();

  std::printf("Reply: %s\n", reply.body().c_str());
  std::printf("Return route: %s\n", reply.return_route().to_string().c_str());
  co_return 0;
}

}  // namespace

int main() { return nodus::run_main({.name = "03-routing"}, program); }
