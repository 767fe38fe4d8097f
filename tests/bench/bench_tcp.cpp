// TCP between two processes over loopback: Nodus (tcp transport, msgpack frames, workers on
// both sides) next to a raw-socket baseline (the same length-prefixed frames written and read
// with plain blocking sockets) in the same run. See tests/bench/README.md.
//
//   bench_tcp [latency_n [small_n [large_n]]]   round trips, 64 B messages, 64 KiB messages

#include <utility>  // before Asio's awaitable.hpp

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>

#include "bench_processes.hpp"
#include "bench_support.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/transports/tcp.hpp"

using namespace nodus;
using steady = std::chrono::steady_clock;
using namespace nodus::bench;

namespace {

constexpr std::size_t small_size = 64;

constexpr std::size_t large_size = 64 * 1024;

void read_all(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    const auto r = ::read(fd, p, n);
    if (r <= 0) fail("raw read");
    p += r;
    n -= static_cast<std::size_t>(r);
  }
}

void write_frame(int fd, const bytes& body) {
  // Prefix and body in one buffer, as the Nodus transport writes them: one syscall per frame.
  bytes frame(4 + body.size());
  const std::uint32_t length = htonl(static_cast<std::uint32_t>(body.size()));
  std::memcpy(frame.data(), &length, 4);
  std::memcpy(frame.data() + 4, body.data(), body.size());
  write_all(fd, frame.data(), frame.size());
}

void read_frame(int fd, bytes& body) {
  std::uint32_t length = 0;
  read_all(fd, &length, 4);
  body.resize(ntohl(length));
  read_all(fd, body.data(), body.size());
}
// Serves one raw connection until the client closes it: mode 'E' echoes every frame; mode 'S'
// reads a count, then that many frames, and answers one byte.
void serve_raw(int fd) {
  set_nodelay(fd);
  char mode = 0;
  std::uint64_t count = 0;
  std::uint32_t length = 0;
  bytes body;
  const auto next_frame = [&] {
    if (!read_exactly(fd, &length, 4)) return false;
    body.resize(ntohl(length));
    return read_exactly(fd, body.data(), body.size());
  };
  if (read_exactly(fd, &mode, 1) && mode == 'E') {
    while (next_frame()) write_frame(fd, body);
  } else if (mode == 'S' && read_exactly(fd, &count, sizeof count)) {
    std::uint64_t received = 0;
    while (received < count && next_frame()) ++received;
    if (received == count) write_all(fd, "k", 1);
  }
  ::close(fd);
}

int listen_raw(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 16) != 0) fail("raw listen");
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

int connect_raw(std::uint16_t port, char mode) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("raw connect");
  set_nodelay(fd);
  write_all(fd, &mode, 1);
  return fd;
}

// ---- the server process --------------------------------------------------------------------

// Runs in the forked child: a Nodus node (echoer, counter) and a raw server; writes both ports
// to `report` and serves until SIGTERM.
[[noreturn]] void run_server(int report) {
  std::uint16_t raw_port = 0;
  const int raw = listen_raw(raw_port);
  std::thread([raw] {
    for (;;) {
      const int fd = ::accept(raw, nullptr, nullptr);
      if (fd < 0) return;
      std::thread(serve_raw, fd).detach();
    }
  }).detach();

  auto n = node::create({.name = "bench-server", .threads = node_threads()});
  auto transport = tcp_transport::create(n);
  if (!transport || !n.start_worker("echoer", services::echoer{}) || !n.start_worker("counter", counter{}))
    fail("server node");
  const auto bound = transport.value().listen("127.0.0.1:0", {.expose = {"echoer", "counter"}});
  if (!bound) fail("server listen");
  const auto line = bound.value() + " " + std::to_string(raw_port) + "\n";
  write_all(report, line.data(), line.size());
  ::close(report);
  stop_on_signals(n.create_context());
  n.run();
  std::_Exit(0);  // the raw server's threads are still blocked; nothing to tear down
}

// ---- the client: Nodus measurements --------------------------------------------------------

task<result<std::vector<double>>> nodus_round_trips(context& ctx, route to, std::uint64_t n) {
  auto reply_to = ctx.new_detached("bench.");
  const bytes payload(small_size, 'p');
  std::vector<double> micros;
  micros.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto start = steady::now();
    if (auto sent = co_await reply_to.send(to, payload); !sent) co_return sent.error();
    auto reply = co_await reply_to.receive_message(std::chrono::seconds(10));
    if (!reply) co_return reply.error();
    micros.push_back(std::chrono::duration<double, std::micro>(steady::now() - start).count());
  }
  co_return micros;
}

task<result<double>> nodus_stream(context& ctx, route to, std::uint64_t n, std::size_t size) {
  auto reply_to = ctx.new_detached("bench.");
  if (auto sent = co_await reply_to.send(to, n); !sent) co_return sent.error();
  const bytes payload(size, 'p');
  const auto start = steady::now();
  for (std::uint64_t i = 0; i < n; ++i)
    if (auto sent = co_await reply_to.send(to, payload); !sent) co_return sent.error();
  auto done = co_await reply_to.receive_message(std::chrono::seconds(60));
  if (!done) co_return done.error();
  co_return std::chrono::duration<double>(steady::now() - start).count();
}

// ---- the client: raw measurements ----------------------------------------------------------

std::vector<double> raw_round_trips(std::uint16_t port, std::uint64_t n) {
  const int fd = connect_raw(port, 'E');
  const bytes payload(small_size, 'p');
  bytes reply;
  std::vector<double> micros;
  micros.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto start = steady::now();
    write_frame(fd, payload);
    read_frame(fd, reply);
    micros.push_back(std::chrono::duration<double, std::micro>(steady::now() - start).count());
  }
  ::close(fd);
  return micros;
}

double raw_stream(std::uint16_t port, std::uint64_t n, std::size_t size) {
  const int fd = connect_raw(port, 'S');
  write_all(fd, &n, sizeof n);
  const bytes payload(size, 'p');
  const auto start = steady::now();
  for (std::uint64_t i = 0; i < n; ++i) write_frame(fd, payload);
  char ack = 0;
  read_all(fd, &ack, 1);
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  ::close(fd);
  return seconds;
}

constexpr int pair_runs = 5;
}  // namespace

int main(int argc, char** argv) {
  std::uint64_t latency_n = 20'000, small_n = 200'000, large_n = 5'000;
  std::uint64_t* fields[] = {&latency_n, &small_n, &large_n};
  for (int i = 1; i < argc && i <= 3; ++i) *fields[i - 1] = std::strtoull(argv[i], nullptr, 10);
  if (!latency_n || !small_n || !large_n) fail("counts must be positive");
  alarm(600);  // a hang must fail the benchmark, not stall it (SIGALRM ends the program)

  // The server is a second process, forked before this one starts any thread.
  int fds[2];
  if (pipe(fds) != 0) fail("pipe");
  std::fflush(nullptr);
  const pid_t server = fork();
  if (server < 0) fail("fork");
  // Each process gets a core of its own (server on CPU 1, client on CPU 0) when there are two:
  // left to the scheduler, the raw baseline swings between 1.5 and 6 GB/s from run to run here.
  const auto pin_to = [](int cpu) {
    if (std::thread::hardware_concurrency() < 2) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  };
  if (server == 0) {
    ::close(fds[0]);
    pin_to(1);
    run_server(fds[1]);
  }
  pin_to(0);
  ::close(fds[1]);
  char line[128] = {};
  for (std::size_t got = 0; got < sizeof line - 1 && (got == 0 || line[got - 1] != '\n');) {
    const auto r = ::read(fds[0], line + got, sizeof line - 1 - got);
    if (r <= 0) fail("server did not report its ports");
    got += static_cast<std::size_t>(r);
  }
  char nodus_at[64] = {};
  unsigned raw_port = 0;
  if (std::sscanf(line, "%63s %u", nodus_at, &raw_port) != 2) fail("server report");

  {
    auto n = node::create({.name = "bench-client", .threads = node_threads()});
    auto transport = tcp_transport::create(n);
    if (!transport) fail("client transport");
    const route to_echoer{tcp(nodus_at), "echoer"};
    const route to_counter{tcp(nodus_at), "counter"};

    auto rt = n.block_on([&](context& ctx) { return nodus_round_trips(ctx, to_echoer, latency_n); });
    if (!rt) fail("nodus round trips: " + rt.error().message());
    const auto raw_rt = raw_round_trips(static_cast<std::uint16_t>(raw_port), latency_n);
    std::printf("tcp_rtt_p50_us %.1f\ntcp_rtt_p99_us %.1f\n", percentile(rt.value(), 0.5),
                percentile(rt.value(), 0.99));
    std::printf("raw_rtt_p50_us %.1f\nraw_rtt_p99_us %.1f\n", percentile(raw_rt, 0.5), percentile(raw_rt, 0.99));

    const auto nodus_rate = [&](std::uint64_t count, std::size_t size) {
      auto seconds = n.block_on([&](context& ctx) { return nodus_stream(ctx, to_counter, count, size); });
      if (!seconds) fail("nodus stream: " + seconds.error().message());
      return seconds.value();
    };
    const auto port = static_cast<std::uint16_t>(raw_port);
    // Nodus and raw runs alternate, so that drift in the machine's speed (a VM's neighbours, CPU
    // frequency) affects both alike; the ratio is the median of the per-pair ratios.
    const auto compare = [&](const char* name, const char* unit, std::uint64_t count, std::size_t size, double scale) {
      std::vector<double> nodus_values, raw_values, ratios;
      for (int i = 0; i < pair_runs; ++i) {
        nodus_values.push_back(scale / nodus_rate(count, size));
        raw_values.push_back(scale / raw_stream(port, count, size));
        ratios.push_back(nodus_values.back() / raw_values.back());
        std::fprintf(stderr, "  %s run %d: nodus %.0f, raw %.0f %s\n", name, i + 1, nodus_values.back(),
                     raw_values.back(), unit);
      }
      std::printf("tcp_%s_%s %.0f\nraw_%s_%s %.0f\nratio_%s %.3f\n", name, unit, median(nodus_values), name, unit,
                  median(raw_values), name, median(ratios));
      std::fflush(stdout);
    };
    compare("64B", "msgs_per_s", small_n, small_size, double(small_n));
    compare("64KiB", "MB_per_s", large_n, large_size, double(large_n * large_size) / 1e6);
  }
  kill(server, SIGTERM);
  int status = 0;
  waitpid(server, &status, 0);
  return 0;
}
