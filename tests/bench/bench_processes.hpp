#pragma once
// What the two-process benchmarks (bench_tcp, bench_secure_channel_tcp, bench_kafka_streams)
// share: pinning, child processes ended by PID, plain-socket helpers, the counting worker, and
// order statistics.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>  // before Asio's awaitable.hpp
#include <vector>

#include "bench_support.hpp"
#include "nodus/node/context.hpp"
#include "nodus/node/worker.hpp"

namespace nodus::bench {

/// Threads per node in each process: NODUS_BENCH_THREADS, 1 by default, so that two processes
/// together use the machine's two cores and no more.
inline unsigned node_threads() {
  const char* v = std::getenv("NODUS_BENCH_THREADS");
  return v ? static_cast<unsigned>(std::strtoul(v, nullptr, 10)) : 1;
}

/// Pins the calling thread (and what it forks) to `cpu`, unless there is one core or
/// NODUS_BENCH_PIN=0.
inline void pin_to(int cpu) {
  if (std::thread::hardware_concurrency() < 2) return;
  if (const char* pin = std::getenv("NODUS_BENCH_PIN"); pin && std::string(pin) == "0") return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

/// Starts `args` (a path, or a name found on PATH) pinned to `cpu` (-1: not), with stdin from
/// /dev/null, stdout to `out_fd` (or `log`), stderr to `log`; the kernel sends it SIGTERM if this
/// program dies first. End it with `end_process`.
inline pid_t spawn(const std::vector<std::string>& args, int cpu, const std::filesystem::path& log, int out_fd = -1) {
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) fail("fork");
  if (child > 0) return child;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) std::_Exit(1);
  if (cpu >= 0) pin_to(cpu);
  const int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0) ::dup2(null, 0);
  const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (err >= 0) ::dup2(err, 2);
  ::dup2(out_fd >= 0 ? out_fd : err, 1);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::_Exit(127);
}

/// Ends a child started here by its PID and reaps it.
inline void end_process(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

inline void write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const auto w = ::write(fd, p, n);
    if (w <= 0) fail("write");
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

/// False when the peer closed (or failed) before `n` bytes arrived.
inline bool read_exactly(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    const auto r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

inline void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The `p` quantile (0..1) of `v`, nearest rank.
inline double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

/// Counts the messages announced by a first message (a msgpack count), then answers the last one
/// with "done".
class counter final : public nodus::raw_worker {
public:
  nodus::task<nodus::result<>> handle_message(nodus::context& ctx, nodus::local_message message) override {
    if (expected_ == 0) {
      expected_ = nodus::message_codec<std::uint64_t>::decode(message.payload).value();
      co_return nodus::ok();
    }
    if (++received_ < expected_) co_return nodus::ok();
    expected_ = received_ = 0;
    co_return co_await ctx.send(message.return_route, std::string("done"));
  }

private:
  std::uint64_t expected_ = 0;
  std::uint64_t received_ = 0;
};

}  // namespace nodus::bench
