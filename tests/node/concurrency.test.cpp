// One message at a time per worker, and bounded mailboxes under load.

#include <doctest/doctest.h>

#include <atomic>
#include <string>
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

/// A two-number body, made outside the coroutines (g++ 12 and initializer lists in coroutines).
std::vector<std::uint64_t> two(std::uint64_t a, std::uint64_t b) {
  std::vector<std::uint64_t> v(2);
  v[0] = a;
  v[1] = b;
  return v;
}

/// Checks that each sender's numbers arrive in the order sent; reports the count at `expected`.
class order_checker final : public worker<std::vector<std::uint64_t>> {
public:
  order_checker(std::uint64_t expected, address report_to) : expected_(expected), report_to_(std::move(report_to)) {}
  task<result<>> handle_message(context& ctx, routed<std::vector<std::uint64_t>> m) override {
    const auto& body = m.body();  // {sender, sequence number}
    if (body.size() != 2 || body[0] >= next_.size() || body[1] != next_[body[0]]) ++out_of_order_;
    if (body.size() == 2 && body[0] < next_.size()) next_[body[0]] = body[1] + 1;
    if (++count_ == expected_) {
      count_ = 0;
      co_return co_await ctx.send(route{report_to_}, out_of_order_);
    }
    co_return ok();
  }

private:
  std::uint64_t expected_;
  address report_to_;
  std::vector<std::uint64_t> next_ = std::vector<std::uint64_t>(8, 0);
  std::uint64_t count_ = 0;
  std::uint64_t out_of_order_ = 0;
};

/// On a kick {first, n}, sends {id, first} .. {id, first + n - 1} to "ordered" as fast as it can.
class burst_sender final : public worker<std::vector<std::uint64_t>> {
public:
  explicit burst_sender(std::uint64_t id) : id_(id) {}
  task<result<>> handle_message(context& ctx, routed<std::vector<std::uint64_t>> kick) override {
    const auto first = kick.body().at(0);
    const auto n = kick.body().at(1);
    for (std::uint64_t i = first; i < first + n; ++i) {
      const auto body = two(id_, i);
      if (auto sent = co_await ctx.send(to_, body); !sent) co_return sent;
    }
    co_return ok();
  }

private:
  std::uint64_t id_;
  route to_{"ordered"};
};

/// Kicks each of `senders` burst senders with {first, n}.
task<result<>> kick_bursts(context& ctx, std::uint64_t senders, std::uint64_t first, std::uint64_t n) {
  for (std::uint64_t s = 0; s < senders; ++s) {
    const route to{address("burst." + std::to_string(s))};
    const auto kick = two(first, n);
    if (auto sent = co_await ctx.send(to, kick); !sent) co_return sent;
  }
  co_return ok();
}

/// Kicks "burst.0" with `singles` single messages from `first` on, 1 ms apart, then with one
/// burst of the rest of `total`.
task<result<>> send_singles_then_rest(context& ctx, std::uint64_t first, std::uint64_t singles, std::uint64_t total) {
  const route to{"burst.0"};
  for (std::uint64_t i = 0; i < singles; ++i) {
    const auto kick = two(first + i, 1);
    if (auto r = co_await ctx.send(to, kick); !r) co_return r;
    co_await ctx.sleep(1ms);
  }
  const auto rest = two(first + singles, total - singles);
  co_return co_await ctx.send(to, rest);
}

}  // namespace

TEST_CASE("each sender's messages arrive in the order sent: in bursts that fill the mailbox, and one by one") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  constexpr std::uint64_t senders = 3;
  constexpr std::uint64_t burst = 3000;  // many times the capacity: the senders wait, the drain yields
  auto done = n.create_context("done.");
  REQUIRE(n.start_worker("ordered", order_checker{senders * burst, done.address()}, {.mailbox_capacity = 16}));
  for (std::uint64_t s = 0; s < senders; ++s)
    REQUIRE(n.start_worker(address("burst." + std::to_string(s)), burst_sender{s}));

  // Two bursts with an idle spell between them (the worker parks and gives its ring back), then
  // single messages, each handled before the next is sent (the worker parks after each).
  for (std::uint64_t round = 0; round < 2; ++round) {
    REQUIRE(n.block_on([&](context& ctx) { return kick_bursts(ctx, senders, round * burst, burst); }));
    auto out_of_order = n.block_on([&](context&) { return done.receive<std::uint64_t>(60s); });
    REQUIRE(out_of_order);
    CHECK(out_of_order.value().body() == 0);
    // The idle spell is the scenario (the worker parks and gives its ring back before the next
    // burst), not a wait for a state: nothing asserted depends on how long it lasts.
    std::this_thread::sleep_for(10ms);
  }
  // Then single messages from one sender, each handled before the next is sent (the worker
  // parks after each), and the rest of a full count as one more burst.
  constexpr std::uint64_t singles = 20;
  auto sent =
      n.block_on([&](context& ctx) { return send_singles_then_rest(ctx, 2 * burst, singles, senders * burst); });
  REQUIRE(sent);
  auto out_of_order = n.block_on([&](context&) { return done.receive<std::uint64_t>(60s); });
  REQUIRE(out_of_order);
  CHECK(out_of_order.value().body() == 0);
  CHECK_FALSE(logs.contains("failed to handle"));
}

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
