// 02-worker: start an echoer, send it a message, print the reply.
//
// A worker is an addressed actor: messages sent to its address land in its mailbox and it
// handles them one at a time. The echoer sends each message back along its return route.
//
// The program itself is one coroutine (`program`), run by `nodus::run_main` on a fresh node:
// each step is `co_await`ed in order, as in Ockam's `#[ockam::node] async fn main(ctx)`.

#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"
#include "nodus/services/echoer.hpp"

namespace {

nodus::task<int> program(nodus::context& ctx) {
  // 1. Start an echoer at the local address "echoer".
  if (auto started = co_await ctx.start_worker("echoer", nodus::services::echoer{}); !started) {
    std::fprintf(stderr, "could not start the echoer: %s\n", started.error().message().c_str());
    co_return 1;
  }

  // 2. Send "Hello Nodus!" to it from a fresh address and wait for the reply. (Named locals:
  //    g++ 12 mishandles braced temporaries passed to a coroutine inside co_await.)
  const nodus::route to{"echoer"};
  const std::string text = "Hello Nodus!";
  auto reply = co_await ctx.send_and_receive<std::string>(to, text);
  if (!reply) {
    std::fprintf(stderr, "no reply: %s\n", reply.error().message().c_str());
    co_return 1;
  }
  std::printf("App received: %s\n", reply.value().body().c_str());

  // 3. Returning ends the program: the node stops, workers finish and their threads join.
  co_return 0;
}

}  // namespace

int main() { return nodus::run_main({.name = "02-worker"}, program); }
