// bench_caf: the measurements of bench_local with CAF 0.17 actors, for comparison.
//
//   caf_one_way_msgs_per_s           a sender actor sends N std::uint64_t to a counting actor
//   caf_ping_pong_round_trips_per_s  two actors bounce one std::uint64_t N times
//   caf_idle_worker_bytes            RSS growth per idle actor, over 10,000 spawned actors
//   caf_idle_worker_heap_bytes       malloc'd bytes per idle actor (steadier than RSS)
//   caf_idle_worker_after_message_*  the same for actors that have each handled one message
//
// Same sizes, same 2 scheduler threads, median of 3 runs each on a fresh actor_system. CAF's
// mailboxes are unbounded, so its one-way sender never waits; a Nodus sender waits whenever the
// counter's mailbox (1024 by default) is full. Usage:
//   bench_caf [one_way_n [ping_pong_n [idle_actors]]]

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <caf/all.hpp>

#include "bench_support.hpp"

namespace {

namespace bench = nodus::bench;

constexpr std::size_t scheduler_threads = 2;

struct counter_state {
  std::uint64_t received = 0;
};

/// Counts messages and finishes the run at the n-th.
caf::behavior counter_actor(caf::stateful_actor<counter_state>* self, std::uint64_t n, bench::completion* done) {
  return {[=](std::uint64_t) {
    if (++self->state.received == n) done->finish();
  }};
}

/// On a kick carrying n, sends 0..n-1 to `counter`.
caf::behavior sender_actor(caf::event_based_actor* self, caf::actor counter, bench::completion* done) {
  return {[=](std::uint64_t n) {
    done->start();
    for (std::uint64_t i = 0; i < n; ++i) self->send(counter, i);
  }};
}

/// Receives k: finishes the run at k == n, otherwise sends k + 1 to `pong`. Kicked with 0.
caf::behavior ping_actor(caf::event_based_actor* self, caf::actor pong, std::uint64_t n, bench::completion* done) {
  return {[=](std::uint64_t k) {
    if (k == 0) done->start();
    if (k == n) {
      done->finish();
      return;
    }
    self->send(pong, k + 1);
  }};
}

/// Sends every number back to whoever sent it.
caf::behavior pong_actor(caf::event_based_actor* self) {
  return {[=](std::uint64_t k) { self->send(caf::actor_cast<caf::actor>(self->current_sender()), k); }};
}

/// Counts idle actors that initialised, then messages they handled; finishes `started` when all
/// `expected` have initialised and `handled_all` when all have handled one message.
struct idle_counts {
  std::uint64_t expected = 0;
  std::atomic<std::uint64_t> initialised{0};
  std::atomic<std::uint64_t> handled{0};
  bench::completion started;
  bench::completion handled_all;
};

/// An idle actor. CAF initialises spawned actors later, on its scheduler threads; the last one
/// to initialise finishes `started`, so the measurement sees every actor complete.
caf::behavior idle_actor(caf::event_based_actor*, idle_counts* counts) {
  if (++counts->initialised == counts->expected) counts->started.finish();
  return {[=](std::uint64_t) {
    if (++counts->handled == counts->expected) counts->handled_all.finish();
  }};
}

/// A config with 2 scheduler threads, like the Nodus node.
struct two_threads_config : caf::actor_system_config {
  two_threads_config() { set("scheduler.max-threads", scheduler_threads); }
};

/// Fails unless the system really runs `scheduler_threads` threads (a mistyped key is ignored).
void check_threads(caf::actor_system& system) {
  if (system.scheduler().num_workers() != scheduler_threads) bench::fail("CAF did not take scheduler.max-threads");
}

/// Ends the given actors so the actor_system's destructor (which waits for all actors) returns.
void stop_all(std::initializer_list<caf::actor> actors) {
  for (const auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

double one_way_once(std::uint64_t n) {
  bench::completion done;
  two_threads_config config;
  caf::actor_system system{config};
  check_threads(system);
  auto counter = system.spawn(counter_actor, n, &done);
  auto sender = system.spawn(sender_actor, counter, &done);
  caf::anon_send(sender, n);
  done.wait("caf one-way");
  stop_all({sender, counter});
  return static_cast<double>(n) / done.seconds();
}

double ping_pong_once(std::uint64_t n) {
  bench::completion done;
  two_threads_config config;
  caf::actor_system system{config};
  check_threads(system);
  auto pong = system.spawn(pong_actor);
  auto ping = system.spawn(ping_actor, pong, n, &done);
  caf::anon_send(ping, std::uint64_t{0});
  done.wait("caf ping-pong");
  stop_all({ping, pong});
  return static_cast<double>(n) / done.seconds();
}

/// Memory per idle actor, over `count` spawned actors; with `message_each`, each has handled one
/// message before the measurement.
bench::memory_growth idle_bytes_once(std::uint64_t count, bool message_each) {
  two_threads_config config;
  caf::actor_system system{config};
  check_threads(system);
  std::vector<caf::actor> actors;
  actors.reserve(count);  // before the baseline: the handles are the caller's, not the actors'
  idle_counts counts;
  counts.expected = count;
  const bench::memory_probe before;
  for (std::uint64_t i = 0; i < count; ++i) actors.push_back(system.spawn(idle_actor, &counts));
  counts.started.wait("caf idle actors");
  if (message_each) {
    for (std::uint64_t i = 0; i < count; ++i) caf::anon_send(actors[i], i);
    counts.handled_all.wait("caf idle actors' messages");
  }
  // Runs in a child that exits without teardown (bench::in_child_process), so no stop_all here.
  return before.per_object(count);
}

}  // namespace

int main(int argc, char** argv) {
  const auto sizes = bench::parse_sizes(argc, argv);
  std::fprintf(stderr, "bench_caf: CAF %d, %zu scheduler threads, one-way N=%llu, ping-pong N=%llu, idle actors %llu\n",
               CAF_VERSION, scheduler_threads, static_cast<unsigned long long>(sizes.one_way),
               static_cast<unsigned long long>(sizes.ping_pong), static_cast<unsigned long long>(sizes.idle));
  // Memory first: its runs fork, which must happen before this process has any thread.
  bench::report_memory_median("caf_idle_worker", [&] { return idle_bytes_once(sizes.idle, false); });
  bench::report_memory_median("caf_idle_worker_after_message", [&] { return idle_bytes_once(sizes.idle, true); });
  bench::report_median("caf_one_way_msgs_per_s", [&] { return one_way_once(sizes.one_way); });
  bench::report_median("caf_ping_pong_round_trips_per_s", [&] { return ping_pong_once(sizes.ping_pong); });
  return 0;
}
