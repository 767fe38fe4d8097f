// 04-custom-worker: a user-defined, stateful worker.
//
// A worker is a class with one message type and a `handle_message` coroutine. The runtime runs
// one message at a time per worker, so its state needs no lock.

#include <cctype>
#include <cstdio>
#include <string>

#include "nodus/node/main.hpp"

namespace {

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

// The program, one coroutine run by nodus::run_main below.
nodus::task<int> program(nodus::context& ctx) {
  // 2. Start it at "shouter".
  if (auto started = co_await ctx.start_worker("shouter", counting_shouter{}); !started) {
    std::fprintf(stderr, "start failed: %s\n", started.error().message().c_str());
    co_return 1;
  }

  // 3. Talk to it three times; the count grows.
  const nodus::route to{"shouter"};
  static constexpr const char* texts[] = {"hello", "custom", "worker"};  // not a braced list: g++ 12 and co_await
  for (const char* text : texts) {
    const std::string body = text;
    auto reply = co_await ctx.send_and_receive<std::string>(to, body);
    if (!reply) {
      std::fprintf(stderr, "no reply: %s\n", reply.error().message().c_str());
      co_return 1;
    }
    std::printf("App received: %s\n", reply.value().body().c_str());
  }
  co_return 0;
}

}  // namespace

int main() { return nodus::run_main({.name = "04-custom-worker"}, program); }
