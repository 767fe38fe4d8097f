// Processors: workers that run a loop or a timer.

#include <doctest/doctest.h>

#include <atomic>

#include "log_capture.hpp"
#include "nodus/node/node.hpp"

using namespace nodus;
using namespace std::chrono_literals;

namespace {

/// Sends a numbered tick to `to` every 5 ms.
class metronome final : public processor {
public:
  metronome(address to, std::atomic<int>& shut_down) : to_(std::move(to)), shut_down_(&shut_down) {}
  task<result<bool>> process(context& ctx) override {
    if (auto slept = co_await ctx.sleep(5ms); !slept) co_return slept.error();
    if (auto sent = co_await ctx.send(route{to_}, ++ticks_); !sent) co_return sent.error();
    co_return true;
  }
  task<> shutdown(context&) override {
    ++*shut_down_;
    co_return;
  }

private:
  address to_;
  std::atomic<int>* shut_down_;
  std::uint64_t ticks_ = 0;
};

/// Answers three requests that arrive at its address, then ends its loop.
class three_answers final : public processor {
public:
  explicit three_answers(std::atomic<int>& shut_down) : shut_down_(&shut_down) {}
  task<result<bool>> process(context& ctx) override {
    auto request = co_await ctx.receive<std::string>(10s);
    if (!request) co_return request.error();
    if (auto sent = co_await ctx.send(request.value().return_route(), "answer to " + request.value().body()); !sent)
      co_return sent.error();
    co_return ++answered_ < 3;
  }
  task<> shutdown(context&) override {
    ++*shut_down_;
    co_return;
  }

private:
  std::atomic<int>* shut_down_;
  int answered_ = 0;
};

}  // namespace

TEST_CASE("a periodic processor ticks until it is stopped, then shuts down") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  std::atomic<int> shut_down{0};
  auto listener = n.create_context("ticks.");
  REQUIRE(n.start_processor("metronome", metronome{listener.address(), shut_down}));
  auto ticks = n.block_on([&](context&) -> task<result<std::uint64_t>> {
    std::uint64_t last = 0;
    for (int i = 0; i < 3; ++i) {
      auto tick = co_await listener.receive<std::uint64_t>(10s);
      if (!tick) co_return tick.error();
      last = tick.value().body();
    }
    co_return last;
  });
  CHECK(ticks.value() == 3);
  REQUIRE(n.stop_worker("metronome"));
  CHECK(shut_down == 1);
}

TEST_CASE("a processor receives at its address and its loop ends when process returns false") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  std::atomic<int> shut_down{0};
  REQUIRE(n.start_processor("answers", three_answers{shut_down}));
  for (const char* q : {"a", "b", "c"})
    CHECK(n.send_and_receive<std::string>(route{"answers"}, std::string(q)).value() == std::string("answer to ") + q);
  const auto deadline = std::chrono::steady_clock::now() + 10s;  // bounded wait for the loop to end
  while (shut_down == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  CHECK(shut_down == 1);
  CHECK(n.send_and_receive<std::string>(route{"answers"}, std::string("d"), 50ms).error() == errc::unknown_address);
}
