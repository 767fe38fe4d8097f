// One message at a time per worker, and bounded mailboxes under load.

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "log_capture.hpp"
#include "nodus/node/node.hpp"

using namespace nodus;
using namespace std::chrono_literals;

namespace {

struct overlap_probe {
  std::atomic<int> in_handler{0};
  std::atomic<int> overlaps{0};
};

/// Counts messages and detects overlapping handlers; tells `report_to` when `expected` arrived.
class exclusive_counter final : public worker<std::uint64_t> {
public:
  exclusive_counter(std::uint64_t expected, address report_to, overlap_probe& probe)
      : expected_(expected), report_to_(std::move(report_to)), probe_(&probe) {}

  task<result<>> handle_message(context& ctx, routed<std::uint64_t>) override {
    if (probe_->in_handler.fetch_add(1) != 0) ++probe_->overlaps;
    co_await ctx.sleep(0ms);  // suspend mid-handler so another thread could barge in if allowed
    probe_->in_handler.fetch_sub(1);
    if (++count_ == expected_) co_return co_await ctx.send(route{report_to_}, count_);
    co_return ok();
  }

private:
  std::uint64_t expected_;
  address report_to_;
  overlap_probe* probe_;
  std::uint64_t count_ = 0;
};

/// Handles each message slowly, so a fast sender fills its mailbox.
class slow_worker final : public worker<std::uint64_t> {
public:
  slow_worker(std::uint64_t expected, address report_to) : expected_(expected), report_to_(std::move(report_to)) {}
  task<result<>> handle_message(context& ctx, routed<std::uint64_t>) override {
    co_await ctx.sleep(1ms);
    if (++count_ == expected_) co_return co_await ctx.send(route{report_to_}, count_);
    co_return ok();
  }

private:
  std::uint64_t expected_;
  address report_to_;
  std::uint64_t count_ = 0;
};

}  // namespace

TEST_CASE("a worker never runs two handlers at once under contention from many senders") {
  test::log_capture logs;
  auto n = node::create({.threads = 4, .logger = logs.logger()});
  constexpr int senders = 8;
  constexpr std::uint64_t per_sender = 2000;
  overlap_probe probe;
  auto done = n.create_context("done.");
  REQUIRE(n.start_worker("counter", exclusive_counter{senders * per_sender, done.address(), probe}));

  std::vector<std::thread> threads;
  std::atomic<int> send_errors{0};
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&] {
      auto sent = n.block_on([](context& ctx) -> task<result<>> {
        for (std::uint64_t i = 0; i < per_sender; ++i)
          if (auto r = co_await ctx.send(route{"counter"}, i); !r) co_return r;
        co_return ok();
      });
      if (!sent) ++send_errors;
    });
  for (auto& t : threads) t.join();

  auto total = n.block_on([&](context&) { return done.receive<std::uint64_t>(60s); });
  REQUIRE(total);
  CHECK(total.value().body() == senders * per_sender);
  CHECK(send_errors == 0);
  CHECK(probe.overlaps == 0);
}

TEST_CASE("a full mailbox makes a fast sender wait: the queue never grows past its capacity") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  constexpr std::size_t capacity = 8;
  constexpr std::uint64_t messages = 300;
  auto done = n.create_context("done.");
  REQUIRE(n.start_worker("slow", slow_worker{messages, done.address()}, {.mailbox_capacity = capacity}));

  std::atomic<bool> sending{true};
  std::thread sender([&] {
    auto sent = n.block_on([](context& ctx) -> task<result<>> {
      for (std::uint64_t i = 0; i < messages; ++i)
        if (auto r = co_await ctx.send(route{"slow"}, i); !r) co_return r;
      co_return ok();
    });
    CHECK(sent);
    sending = false;
  });
  std::size_t max_queued = 0;
  while (sending) {
    for (const auto& w : n.list_workers())
      if (w.addresses.front() == address("slow")) max_queued = std::max(max_queued, w.queued);
    std::this_thread::yield();
  }
  sender.join();

  auto total = n.block_on([&](context&) { return done.receive<std::uint64_t>(60s); });
  REQUIRE(total);
  CHECK(total.value().body() == messages);  // nothing dropped
  CHECK(max_queued <= capacity);            // nothing queued beyond the bound
  CHECK(max_queued > 0);
}
