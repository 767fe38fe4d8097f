// Starting and stopping workers and nodes.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log_capture.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"

using namespace nodus;
using namespace std::chrono_literals;

namespace {

struct lifecycle_counts {
  std::atomic<int> initialized{0};
  std::atomic<int> handled{0};
  std::atomic<int> shut_down{0};
};

/// Tells `started_to` when it begins a message, then waits up to a minute (a busy handler).
class busy_worker final : public worker<std::string> {
public:
  explicit busy_worker(lifecycle_counts& counts) : counts_(&counts) {}
  task<result<>> initialize(context&) override {
    ++counts_->initialized;
    co_return ok();
  }
  task<result<>> handle_message(context& ctx, routed<std::string> m) override {
    ++counts_->handled;
    co_await ctx.send(m.return_route(), std::string("started"));
    co_return co_await ctx.sleep(60s);
  }
  task<> shutdown(context&) override {
    ++counts_->shut_down;
    co_return;
  }

private:
  lifecycle_counts* counts_;
};

/// Stops itself when told to.
class self_stopper final : public worker<std::string> {
public:
  explicit self_stopper(lifecycle_counts& counts) : counts_(&counts) {}
  task<result<>> handle_message(context& ctx, routed<std::string> m) override {
    ++counts_->handled;
    if (m.body() == "stop yourself") co_return co_await ctx.stop_worker(ctx.address());
    co_return co_await ctx.send(m.return_route(), m.body());
  }
  task<> shutdown(context&) override {
    ++counts_->shut_down;
    co_return;
  }

private:
  lifecycle_counts* counts_;
};

/// Asks the node to stop.
class node_stopper final : public worker<std::string> {
public:
  task<result<>> handle_message(context& ctx, routed<std::string>) override {
    ctx.stop_node();
    co_return ok();
  }
};

}  // namespace

TEST_CASE("stopping a node with a busy worker finishes in bounded time and runs shutdown once") {
  test::log_capture logs;
  lifecycle_counts counts;
  auto n = node::create({.threads = 2, .shutdown_timeout = 5s, .logger = logs.logger()});
  REQUIRE(n.start_worker("busy", busy_worker{counts}));
  CHECK(counts.initialized == 1);
  // The first message makes it busy; the next ones wait in the mailbox and are dropped at stop.
  auto started = n.block_on([](context& ctx) -> task<result<std::string>> {
    for (int i = 0; i < 3; ++i)
      if (auto sent = co_await ctx.send(route{"busy"}, std::string("work")); !sent) co_return sent.error();
    auto first = co_await ctx.receive<std::string>(10s);
    if (!first) co_return first.error();
    co_return std::move(first).value().body();
  });
  REQUIRE(started.value() == "started");

  const auto before = std::chrono::steady_clock::now();
  n.stop();
  const auto took = std::chrono::steady_clock::now() - before;
  CHECK(took < 30s);  // anything well short of the worker's 60 s sleep: it was cut short
  CHECK(counts.handled == 1);
  CHECK(counts.shut_down == 1);
  CHECK(logs.eventually_contains("'busy' stopped; dropped 2 queued message(s)"));
}

TEST_CASE("calls after stop fail with stopped") {
  test::log_capture logs;
  auto n = node::create({.threads = 1, .logger = logs.logger()});
  n.stop();
  n.stop();  // idempotent
  auto started = n.start_worker("echoer", services::echoer{});
  REQUIRE_FALSE(started);
  CHECK(started.error() == errc::stopped);
}

TEST_CASE("stop_worker runs shutdown and frees the address") {
  test::log_capture logs;
  lifecycle_counts counts;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("s", self_stopper{counts}));
  CHECK(n.send_and_receive<std::string>(route{"s"}, std::string("hi")).value() == "hi");
  REQUIRE(n.stop_worker("s"));
  CHECK(counts.shut_down == 1);
  CHECK(n.send_and_receive<std::string>(route{"s"}, std::string("hi"), 50ms).error() == errc::unknown_address);
  CHECK(n.stop_worker("s").error() == errc::unknown_address);
}

TEST_CASE("a worker can stop itself from its own handler without deadlocking") {
  test::log_capture logs;
  lifecycle_counts counts;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("s", self_stopper{counts}));
  REQUIRE(n.block_on([&](context& ctx) { return ctx.send(route{"s"}, std::string("stop yourself")); }));
  const auto deadline = std::chrono::steady_clock::now() + 10s;  // a bounded wait for the shutdown
  while (counts.shut_down == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  CHECK(counts.shut_down == 1);
  CHECK(n.send_and_receive<std::string>(route{"s"}, std::string("hi"), 50ms).error() == errc::unknown_address);
}

TEST_CASE("run returns once a worker asks the node to stop") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("stopper", node_stopper{}));
  REQUIRE(n.block_on([](context& ctx) { return ctx.send(route{"stopper"}, std::string("please")); }));
  n.run();  // returns after the request; a hang here fails the test by its ctest timeout
  CHECK(n.start_worker("late", services::echoer{}).error() == errc::stopped);
}

TEST_CASE("a handler waiting for a reply is released when the node stops") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .shutdown_timeout = 5s, .logger = logs.logger()});
  std::thread waiter([&] {
    auto reply = n.block_on([](context& ctx) { return ctx.receive<std::string>(60s); });
    CHECK(reply.error() == errc::stopped);
  });
  // Wait (bounded) until the waiter's context is registered, then stop.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (n.list_workers().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  const auto before = std::chrono::steady_clock::now();
  n.stop();
  waiter.join();
  CHECK(std::chrono::steady_clock::now() - before < 5s);
}

namespace {

// Keeps a detached context (its own mailbox in the node's table) for as long as it lives.
class context_owner final : public raw_worker {
public:
  task<result<>> initialize(context& ctx) override {
    mine_.emplace(ctx.new_detached("owned."));
    co_return ok();
  }
  task<result<>> handle_message(context&, local_message) override { co_return ok(); }

private:
  std::optional<context> mine_;
};

}  // namespace

TEST_CASE("stopping a node whose worker still owns a detached context does not deadlock") {
  auto n = node::create({.threads = 2});
  REQUIRE(n.start_worker("owner", context_owner{}));
  n.stop();  // the worker (and its context) go when the table is cleared
  CHECK(n.list_workers().empty());
}

namespace {

// A worker whose handler takes a moment and whose shutdown takes ten seconds (timers: the
// context's sleep would end at the stop).
class slow_to_stop final : public worker<std::string> {
public:
  slow_to_stop(std::shared_ptr<std::atomic<bool>> handling, std::shared_ptr<std::atomic<bool>> stopping)
      : handling_(std::move(handling)), stopping_(std::move(stopping)) {}
  task<result<>> handle_message(context&, routed<std::string>) override {
    handling_->store(true);
    co_await wait(300ms);
    co_return ok();
  }
  task<> shutdown(context&) override {
    stopping_->store(true);
    co_await wait(10s);
  }

private:
  static task<> wait(duration d) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
    boost::system::error_code ignored;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
  }
  std::shared_ptr<std::atomic<bool>> handling_, stopping_;
};

// Stops the worker at `at` and waits for its shutdown; `marker` lives as long as this coroutine.
task<> stop_and_wait(context ctx, address at, std::shared_ptr<int> marker) {
  (void)co_await ctx.stop_worker(std::move(at));
  (void)marker;
}

}  // namespace

TEST_CASE("a stop_worker still waiting for a shutdown when the node stops goes with the node") {
  // The TCP transport's read loops stop their connection's worker this way when a connection
  // ends, which can be just as the node stops.
  std::weak_ptr<int> marker_seen;
  auto handling = std::make_shared<std::atomic<bool>>(false), stopping = std::make_shared<std::atomic<bool>>(false);
  {
    auto n = node::create({.threads = 2});
    REQUIRE(n.start_worker("slow", slow_to_stop(handling, stopping)));
    auto sender = n.create_context();
    REQUIRE(n.block_on([&](context& ctx) { return ctx.send(route{"slow"}, std::string("work")); }));
    REQUIRE(test::eventually([&] { return handling->load(); }));
    // Stopped while busy: its drain loop runs the shutdown, and the stopper waits for it.
    auto marker = std::make_shared<int>(1);
    marker_seen = marker;
    boost::asio::co_spawn(io_executor(sender), stop_and_wait(n.create_context(), "slow", std::move(marker)),
                          boost::asio::detached);
    REQUIRE(test::eventually([&] { return stopping->load(); }));
    n.stop();  // "slow" is no longer in the table: the stop does not wait for it
  }
  CHECK(marker_seen.expired());  // the waiting coroutine was destroyed, not leaked
}
