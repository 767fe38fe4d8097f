// 01-node: create a node, look at it, stop it.
//
// A node owns the threads that run workers and the table of addresses they answer at.
// Programs never touch a thread or an io_context: they create a node and talk to it.

#include <cstdio>

#include "nodus/node/node.hpp"

int main() {
  // 1. Create a node with two threads. It starts running at once.
  auto node = nodus::node::create({.name = "01-node", .threads = 2});
  std::printf("Node '%s' is running\n", node.name().c_str());

  // 2. A program gets its own context: an address of its own to send from and receive at.
  auto ctx = node.create_context();
  std::printf("This program's address is %s\n", ctx.address().to_string().c_str());

  // 3. Stop gracefully: workers finish the message in hand, run `shutdown`, threads join.
  //    (Destroying the node does the same.)
  node.stop();
  std::printf("Node stopped\n");
  return 0;
}
