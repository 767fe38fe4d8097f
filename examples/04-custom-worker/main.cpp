// 04-custom-worker: a user-defined, stateful worker.
//
// A worker is a class with one message type and a `handle_message` coroutine. The runtime runs
// one message at a time per worker, so its state needs no lock.

#include <cctype>
#include <cstdio>
#include <string>

#include "nodus/node/node.hpp"

// 1. The worker: counts the messages it has seen and answers with the count and the text in
//    upper case.
class counting_shouter final : public nodus::worker<std::string> {
public:
  nodus::task<nodus::result<>> handle_message(nodus::context& ctx, nodus::routed<std::string> msg) override {
    ++count_;
    std::string loud = msg.body();
    for (auto& c : loud) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ctx.log().info("{} handled message #{}", ctx.address(), count_);
    co_return co_await ctx.send(msg.return_route(), std::to_string(count_) + ": " + loud);
  }

private:
  int count_ = 0;  // safe without a lock: one message at a time
};

int main() {
  auto node = nodus::node::create({.name = "04-custom-worker"});

  // 2. Start it at "shouter".
  if (auto started = node.start_worker("shouter", counting_shouter{}); !started)
    return std::fprintf(stderr, "start failed: %s\n", started.error().message().c_str()), 1;

  // 3. Talk to it three times; the count grows.
  for (const char* text : {"hello", "custom", "worker"}) {
    auto reply = node.send_and_receive<std::string>(nodus::route{"shouter"}, std::string(text));
    if (!reply) return std::fprintf(stderr, "no reply: %s\n", reply.error().message().c_str()), 1;
    std::printf("App received: %s\n", reply.value().c_str());
  }
  return 0;
}
