// 02-worker: start an echoer, send it a message, print the reply.
//
// A worker is an addressed actor: messages sent to its address land in its mailbox and it
// handles them one at a time. The echoer sends each message back along its return route.

#include <cstdio>
#include <string>

#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"

int main() {
  // 1. A node owns the threads and the workers.
  auto node = nodus::node::create({.name = "02-worker"});

  // 2. Start an echoer at the local address "echoer".
  if (auto started = node.start_worker("echoer", nodus::services::echoer{}); !started) {
    std::fprintf(stderr, "could not start the echoer: %s\n", started.error().message().c_str());
    return 1;
  }

  // 3. Send "Hello Nodus!" to it from a fresh address and wait for the reply.
  auto reply = node.send_and_receive<std::string>(nodus::route{"echoer"}, std::string("Hello Nodus!"));
  if (!reply) {
    std::fprintf(stderr, "no reply: %s\n", reply.error().message().c_str());
    return 1;
  }
  std::printf("App received: %s\n", reply.value().c_str());

  // 4. The node stops when it goes out of scope: workers finish and their threads join.
  return 0;
}
