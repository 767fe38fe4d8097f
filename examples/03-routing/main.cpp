// 03-routing: a message travels through three hops to the echoer; the reply comes back the
// same way along the return route.
//
// The rule every hop follows: remove yourself from the front of the onward route, put your
// own address on the front of the return route, pass the message on. Replies go to the return
// route, so they retrace the path without anyone having planned it.

#include <cstdio>
#include <string>

#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/services/hop.hpp"

int main() {
  auto node = nodus::node::create({.name = "03-routing"});

  // 1. An echoer and three hops, each at its own address.
  for (auto started : {node.start_worker("echoer", nodus::services::echoer{}),
                       node.start_worker("h1", nodus::services::hop{}),
                       node.start_worker("h2", nodus::services::hop{}),
                       node.start_worker("h3", nodus::services::hop{})})
    if (!started) return std::fprintf(stderr, "start failed: %s\n", started.error().message().c_str()), 1;

  // 2. The route, written the way users type it on a command line.
  auto onward = nodus::route::parse("h1 => h2 => h3 => echoer");
  if (!onward) return std::fprintf(stderr, "bad route\n"), 1;

  // 3. Send from a program context and wait for the reply; print both routes.
  auto reply = node.block_on([&](nodus::context& ctx) -> nodus::task<nodus::result<nodus::routed<std::string>>> {
    std::printf("Onward route: %s\n", onward.value().to_string().c_str());
    if (auto sent = co_await ctx.send(onward.value(), std::string("Hello through three hops")); !sent)
      co_return sent.error();
    co_return co_await ctx.receive<std::string>();
  });
  if (!reply) return std::fprintf(stderr, "no reply: %s\n", reply.error().message().c_str()), 1;

  std::printf("Reply: %s\n", reply.value().body().c_str());
  std::printf("Return route: %s\n", reply.value().return_route().to_string().c_str());
  return 0;
}
