// bench_local: local messaging on one Nodus node with 2 threads.
//
//   one_way_msgs_per_s           a sender worker sends N std::uint64_t to a counting worker;
//                                messages per second from the first send to the last receipt
//   ping_pong_round_trips_per_s  two workers bounce one std::uint64_t N times
//   idle_worker_bytes            RSS growth per idle worker, over 10,000 started workers
//   idle_worker_heap_bytes       malloc'd bytes per idle worker (steadier than RSS)
//   idle_worker_after_message_*  the same for workers that have each handled one message
//
// Each figure is the median of 3 runs, each on a fresh node. Usage:
//   bench_local [one_way_n [ping_pong_n [idle_workers]]]

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bench_support.hpp"
#include "nodus/node/node.hpp"

namespace {

namespace bench = nodus::bench;
using nodus::context;
using nodus::routed;
using nodus::task;

constexpr unsigned node_threads = 2;

nodus::node make_node() { return nodus::node::create({.name = "bench", .threads = node_threads}); }

void check(const nodus::result<>& r, const char* what) {
  if (!r) bench::fail(std::string(what) + ": " + r.error().message());
}

/// Counts messages and finishes the run at the n-th.
class counter final : public nodus::worker<std::uint64_t> {
public:
  counter(std::uint64_t n, bench::completion& done) : n_(n), done_(&done) {}
  task<nodus::result<>> handle_message(context&, routed<std::uint64_t>) override {
    if (++received_ == n_) done_->finish();
    co_return nodus::ok();
  }

private:
  std::uint64_t n_;
  std::uint64_t received_ = 0;
  bench::completion* done_;
};

/// On a kick carrying n, sends 0..n-1 to "counter" as fast as the counter's mailbox allows.
class sender final : public nodus::worker<std::uint64_t> {
public:
  explicit sender(bench::completion& done) : done_(&done) {}
  task<nodus::result<>> handle_message(context& ctx, routed<std::uint64_t> kick) override {
    done_->start();
    for (std::uint64_t i = 0; i < kick.body(); ++i) {
      auto sent = co_await ctx.send(to_, i);
      if (!sent) co_return sent.error();
    }
    co_return nodus::ok();
  }

private:
  // Routes are built outside the coroutines: g++ 12 mishandles a braced route (an
  // initializer_list) inside one.
  nodus::route to_{"counter"};
  bench::completion* done_;
};

/// Receives k: finishes the run at k == n, otherwise sends k + 1 to "pong". Kicked with 0.
class pinger final : public nodus::worker<std::uint64_t> {
public:
  pinger(std::uint64_t n, bench::completion& done) : n_(n), done_(&done) {}
  task<nodus::result<>> handle_message(context& ctx, routed<std::uint64_t> msg) override {
    const auto k = msg.body();
    if (k == 0) done_->start();
    if (k == n_) {
      done_->finish();
      co_return nodus::ok();
    }
    co_return co_await ctx.send(to_, k + 1);
  }

private:
  nodus::route to_{"pong"};
  std::uint64_t n_;
  bench::completion* done_;
};

/// Sends every number back along its return route.
class ponger final : public nodus::worker<std::uint64_t> {
public:
  task<nodus::result<>> handle_message(context& ctx, routed<std::uint64_t> msg) override {
    co_return co_await ctx.send(msg.return_route(), msg.body());
  }
};

/// Counts handled messages across idle workers and finishes `done` at `expected`.
struct handled_count {
  std::uint64_t expected = 0;
  std::atomic<std::uint64_t> handled{0};
  bench::completion done;
};

/// The count of the memory run in progress (each runs in its own child process). A global, so
/// an idle worker is as small as a worker can be: what it costs is the runtime's share alone.
handled_count* idle_count = nullptr;

/// Does nothing but count.
class idle_worker final : public nodus::worker<std::uint64_t> {
public:
  task<nodus::result<>> handle_message(context&, routed<std::uint64_t>) override {
    if (++idle_count->handled == idle_count->expected) idle_count->done.finish();
    co_return nodus::ok();
  }
};

/// Sends `body` to `to` from a temporary context and returns once it is queued.
void kick(nodus::node& node, const char* to, std::uint64_t body) {
  check(node.block_on([&](context& ctx) { return ctx.send(nodus::route{to}, body); }), "kick");
}

double one_way_once(std::uint64_t n) {
  bench::completion done;
  auto node = make_node();
  check(node.start_worker("counter", counter{n, done}), "start counter");
  check(node.start_worker("sender", sender{done}), "start sender");
  kick(node, "sender", n);
  done.wait("one-way");
  return static_cast<double>(n) / done.seconds();
}

double ping_pong_once(std::uint64_t n) {
  bench::completion done;
  auto node = make_node();
  check(node.start_worker("pong", ponger{}), "start pong");
  check(node.start_worker("ping", pinger{n, done}), "start ping");
  kick(node, "ping", 0);
  done.wait("ping-pong");
  return static_cast<double>(n) / done.seconds();
}

// A plain function rather than a capturing coroutine lambda (see node_impl.hpp on g++ 12).
// With `count->expected` > 0, each worker is sent one message once started.
task<nodus::result<>> start_idle_workers(context& ctx, std::uint64_t n, const handled_count* count) {
  for (std::uint64_t i = 0; i < n; ++i) {
    const nodus::address at("idle." + std::to_string(i));
    auto started = co_await ctx.start_worker(at, idle_worker{});
    if (!started) co_return started.error();
    if (count->expected == 0) continue;
    const nodus::route to{at};  // built outside the co_await expression (g++ 12)
    auto sent = co_await ctx.send(to, i);
    if (!sent) co_return sent.error();
  }
  co_return nodus::ok();
}

/// Returns once the node has picked up everything queued before: its threads take work first in,
/// first out, so a no-op run through `block_on` comes after whatever the workers had queued.
void settle(nodus::node& node) {
  check(node.block_on([](context&) -> task<nodus::result<>> { co_return nodus::ok(); }), "settle");
}

/// Memory per idle worker, over `n` started workers; with `message_each`, each has handled one
/// message before the measurement (a worker that has worked keeps its drain loop, parked).
bench::memory_growth idle_bytes_once(std::uint64_t n, bool message_each) {
  auto node = make_node();
  handled_count count;
  count.expected = message_each ? n : 0;
  idle_count = &count;
  settle(node);
  const bench::memory_probe before;
  check(node.block_on([&](context& ctx) { return start_idle_workers(ctx, n, &count); }), "start idle workers");
  if (message_each) count.done.wait("idle workers' messages");
  settle(node);
  return before.per_object(n);
}

}  // namespace

int main(int argc, char** argv) {
  const auto sizes = bench::parse_sizes(argc, argv);
  std::fprintf(stderr, "bench_local: %u node threads, one-way N=%llu, ping-pong N=%llu, idle workers %llu\n",
               node_threads, static_cast<unsigned long long>(sizes.one_way),
               static_cast<unsigned long long>(sizes.ping_pong), static_cast<unsigned long long>(sizes.idle));
  // Memory first: its runs fork, which must happen before this process has any thread.
  bench::report_memory_median("idle_worker", [&] { return idle_bytes_once(sizes.idle, false); });
  bench::report_memory_median("idle_worker_after_message", [&] { return idle_bytes_once(sizes.idle, true); });
  bench::report_median("one_way_msgs_per_s", [&] { return one_way_once(sizes.one_way); });
  bench::report_median("ping_pong_round_trips_per_s", [&] { return ping_pong_once(sizes.ping_pong); });
  return 0;
}
