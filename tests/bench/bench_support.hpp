#pragma once
// Helpers shared by bench_local (Nodus) and bench_caf (CAF 0.17): a bounded completion signal,
// medians of repeated runs, resident memory, and running a measurement in a child process.
// Header-only and free of Nodus and CAF types so both executables can include it.

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace nodus::bench {

using clock = std::chrono::steady_clock;

/// How long a run may take before it counts as failed (a hang must not stall the benchmark).
inline constexpr auto run_timeout = std::chrono::seconds(60);
/// Every figure is the median of this many runs.
inline constexpr int runs = 3;

/// Stops the whole program at once: used when a run times out, since a hung runtime might not
/// shut down either and the benchmark must stay bounded.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "bench: FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

/// The start and end of one timed run, written by the measured code on the runtime's threads and
/// read by the main thread once `wait` returns. The mutex makes both writes visible to main.
class completion {
public:
  /// Marks the first send.
  void start() {
    std::lock_guard lock(mutex_);
    start_ = clock::now();
  }
  /// Marks the last receipt and wakes the main thread.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      end_ = clock::now();
      done_ = true;
    }
    cv_.notify_all();
  }
  /// Waits for `finish`, at most `run_timeout`; fails the program when it does not come.
  void wait(const char* what) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, run_timeout, [this] { return done_; }))
      fail(std::string(what) + " did not complete within 60 s");
  }
  /// Seconds from `start` to `finish`; only after `wait`.
  double seconds() const {
    std::lock_guard lock(mutex_);
    return std::chrono::duration<double>(end_ - start_).count();
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  clock::time_point start_{};
  clock::time_point end_{};
  bool done_ = false;
};

/// Runs `once` `runs` times, shows each result on stderr and prints the median on stdout as
/// `name value`, the line scripts/bench.sh parses.
inline void report_median(const char* name, const std::function<double()>& once) {
  std::vector<double> values;
  for (int i = 0; i < runs; ++i) {
    values.push_back(once());
    std::fprintf(stderr, "  %s run %d: %.0f\n", name, i + 1, values.back());
  }
  std::sort(values.begin(), values.end());
  std::printf("%s %.0f\n", name, values[values.size() / 2]);
  std::fflush(stdout);
}

/// This process's resident set size in bytes (VmRSS in /proc/self/status), or 0 if unreadable.
inline std::int64_t rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::int64_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
    status.ignore(4096, '\n');
  }
  return 0;
}

/// Bytes the program holds from malloc, across all arenas and large mmap'd blocks (glibc).
/// Steadier than RSS, which also moves with page granularity and allocator caching.
inline std::int64_t heap_bytes() {
  const auto info = mallinfo2();
  return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

/// RSS and heap growth of one memory measurement, in bytes per object.
struct memory_growth {
  double rss = 0;
  double heap = 0;
};

/// Runs `measure` in a forked child and returns what it computed. Memory figures need a fresh
/// process each time: after a run frees its objects the allocator keeps the pages, so a second
/// run in the same process would report almost no growth. Call this before the program starts
/// any thread (fork copies only the calling thread). The child is killed by SIGALRM after
/// `run_timeout`, so a hang fails the run instead of stalling it.
/// Memory held now, to divide the growth since by a count of objects.
struct memory_probe {
  std::int64_t rss = rss_bytes();
  std::int64_t heap = heap_bytes();
  memory_growth per_object(std::uint64_t count) const {
    const auto n = static_cast<double>(count);
    return {.rss = static_cast<double>(rss_bytes() - rss) / n, .heap = static_cast<double>(heap_bytes() - heap) / n};
  }
};

inline memory_growth in_child_process(const std::function<memory_growth()>& measure) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) fail("pipe");
  std::fflush(nullptr);  // or buffered output would be written twice
  const pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    close(pipe_fds[0]);
    alarm(static_cast<unsigned>(run_timeout.count()));
    const memory_growth value = measure();
    const bool written = write(pipe_fds[1], &value, sizeof value) == static_cast<ssize_t>(sizeof value);
    // Skip the teardown of whatever `measure` built: only the number matters.
    _exit(written ? 0 : 1);
  }
  close(pipe_fds[1]);
  memory_growth value;
  const bool got = read(pipe_fds[0], &value, sizeof value) == static_cast<ssize_t>(sizeof value);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("memory measurement child failed or timed out");
  return value;
}

/// Prints the median of each memory figure over `runs` child processes, as `<name>_bytes` (RSS)
/// and `<name>_heap_bytes`.
inline void report_memory_median(const std::string& name, const std::function<memory_growth()>& once) {
  std::vector<memory_growth> values;
  for (int i = 0; i < runs; ++i) values.push_back(in_child_process(once));
  const auto median_of = [&](const std::string& line, double memory_growth::*field) {
    std::size_t i = 0;
    report_median(line.c_str(), [&] { return values[i++].*field; });
  };
  median_of(name + "_bytes", &memory_growth::rss);
  median_of(name + "_heap_bytes", &memory_growth::heap);
}

/// Sizes of one benchmark run, from the command line: `[one_way_n [ping_pong_n [idle_workers]]]`.
struct sizes {
  std::uint64_t one_way = 2'000'000;
  std::uint64_t ping_pong = 1'000'000;
  std::uint64_t idle = 10'000;
};

/// Reads `sizes` from argv; missing arguments keep their defaults.
inline sizes parse_sizes(int argc, char** argv) {
  sizes s;
  std::uint64_t* fields[] = {&s.one_way, &s.ping_pong, &s.idle};
  for (int i = 1; i < argc && i <= 3; ++i) {
    char* end = nullptr;
    const auto v = std::strtoull(argv[i], &end, 10);
    if (*end != '\0' || v == 0) fail(std::string("not a positive count: ") + argv[i]);
    *fields[i - 1] = v;
  }
  return s;
}

}  // namespace nodus::bench
