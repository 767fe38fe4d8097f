// bench_kafka_streams: Alice -> Bob -> Alice round trips of 100 B messages through a secure
// channel carried by Kafka-backed streams on a `nodus hub` with its embedded Kafka (librdkafka's
// mock cluster), next to kcat producing and consuming the same number of 100 B records on the
// same broker in the same run. See tests/bench/README.md, "Kafka streams".
//
//   kafka_rtt_p50_us / _p99_us    N sequential round trips (send, wait for the echo): Alice's
//                                 message goes alice-to-bob through Kafka to Bob's echoer, the
//                                 echo bob-to-alice through Kafka back to Alice
//   kafka_msgs_per_s_one_way      M messages with at most W echoes outstanding: echoes received
//                                 / elapsed. Every round trip crosses Kafka twice, so this is
//                                 also the rate each direction carries (one way = round trips/s)
//   kcat_produce_msgs_per_s       `kcat -P -p 0 -l FILE` of M lines of 100 B to a fresh topic,
//   kcat_consume_msgs_per_s       then `kcat -C -p 0 -o 0 -e -q` of the same M records; each
//                                 timed from the fork to the exit of kcat (start-up included)
//   kafka_record_bytes            the size of one record on Bob's receiver stream (kcat -f %S)
//   kafka_first_offset            the oldest offset left on that stream (0: the mock's 5 MiB
//                                 retention dropped nothing)
//
// Layout: the hub is a child process (pinned to CPU 1); Alice and Bob are two nodes in this
// process (pinned to CPU 0), each with its own TCP transport and its own connection to the hub,
// so every message crosses loopback TCP and Kafka as between two machines. kcat runs on CPU 0.
// Each throughput round uses fresh streams and a fresh channel (its own topics), to stay under
// the mock's 5 MiB-per-partition retention. Every process this program starts is killed by its
// PID at the end, and gets SIGTERM from the kernel (PR_SET_PDEATHSIG) if this program dies first.
//
// Usage: bench_kafka_streams NODUS_BINARY [latency_n [throughput_m [window]]]
//        (2 000 round trips, 10 000 messages, window 64 by default)
// NODUS_BENCH_PIN=0: no CPU pinning (the hub's threads then spread over both cores).
// NODUS_BENCH_TMPDIR: where the hub's log and kcat's files go (a fresh directory otherwise,
// removed at the end).

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>  // before Asio's awaitable.hpp

#include <spdlog/spdlog.h>

#include "bench_processes.hpp"
#include "bench_support.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/stream/client.hpp"
#include "nodus/transports/tcp.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus;
using namespace std::chrono_literals;
namespace sc = nodus::secure_channel;
namespace fs = std::filesystem;
using namespace nodus::bench;

namespace {

constexpr std::size_t message_size = 100;
constexpr int rounds = 3;
// ---- child processes -----------------------------------------------------------------------

// Runs `args` to the end; seconds from the fork to its exit. Fails the benchmark unless it
// exits 0.
double run_timed(const std::vector<std::string>& args, const fs::path& log, int out_fd = -1) {
  const auto start = bench::clock::now();
  const pid_t p = spawn(args, 0, log, out_fd);
  int status = 0;
  ::waitpid(p, &status, 0);
  const double seconds = std::chrono::duration<double>(bench::clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail(args[0] + " failed (see " + log.string() + ")");
  return seconds;
}

// The standard output of `args` (run to the end).
std::string run_capture(const std::vector<std::string>& args, const fs::path& dir, const std::string& name) {
  const auto out = dir / (name + ".out");
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) fail("cannot write " + out.string());
  (void)run_timed(args, dir / (name + ".log"), fd);
  ::close(fd);
  std::ifstream in(out);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
// Reads lines from `fd` until one starts with `prefix`; returns the rest of that line's first
// word after the prefix.
std::string read_until(int fd, const std::string& prefix, std::string& buffer) {
  for (;;) {
    for (std::size_t eol; (eol = buffer.find('\n')) != std::string::npos;) {
      std::string line = buffer.substr(0, eol);
      buffer.erase(0, eol + 1);
      if (line.rfind(prefix, 0) == 0) {
        line.erase(0, prefix.size());
        return line.substr(0, line.find(' '));
      }
    }
    char chunk[512];
    const auto r = ::read(fd, chunk, sizeof chunk);
    if (r <= 0) fail("the hub ended before printing '" + prefix + "'");
    buffer.append(chunk, static_cast<std::size_t>(r));
  }
}

// ---- Alice and Bob ---------------------------------------------------------------------------

// Bob's echoer: sends each payload back, as it is, on its return route.
class echoer final : public raw_worker {
public:
  task<result<>> handle_message(context& ctx, local_message message) override {
    co_return co_await ctx.send(message.return_route, std::move(message.payload));
  }
};

sc::channel_identity make_identity() {
  auto id = vault::identity::create(vault::vault::create_in_memory(), vault::key_lifetime::ephemeral);
  if (!id) fail("identity: " + id.error().message());
  auto made = sc::channel_identity::create(std::move(id).value());
  if (!made) fail("channel identity: " + made.error().message());
  return std::move(made).value();
}

stream::client_options stream_options(const std::string& who) {
  stream::client_options o{.stream_service = "stream_kafka",
                           .index_service = "stream_kafka_index",
                           .client_id = stream::unique_name(who),
                           .expose = {"listener"}};
  return o;
}

// One conversation: a fresh pair of streams (two topics), both clients, and a channel from Alice
// to Bob's listener through them.
struct conversation {
  std::string to_bob;    // Bob's receiver stream (Alice's sender stream)
  std::string to_alice;  // Bob's sender stream
  address channel;
  std::optional<stream::connected_stream> alice, bob;
};

conversation connect(node& alice, node& bob, const std::string& hub) {
  conversation c{stream::unique_name("bench-alice-to-bob"), stream::unique_name("bench-bob-to-alice"), {}};
  const route to_hub{tcp(hub)};
  auto b = bob.block_on(
      [&](context& ctx) { return stream::connect_stream(ctx, to_hub, c.to_alice, c.to_bob, stream_options("bob")); });
  if (!b) fail("bob's stream: " + b.error().message());
  auto a = alice.block_on(
      [&](context& ctx) { return stream::connect_stream(ctx, to_hub, c.to_bob, c.to_alice, stream_options("alice")); });
  if (!a) fail("alice's stream: " + a.error().message());
  sc::options o{.identity = make_identity(), .trust = sc::trust_policy::everyone()};
  o.handshake_timeout = 30s;
  const route r{a.value().sender(), "listener"};
  auto ch = alice.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, r, o); });
  if (!ch) fail("secure channel through Kafka: " + ch.error().message());
  c.channel = ch.value().address();
  c.alice = a.value();
  c.bob = b.value();
  return c;
}

// Microseconds of each of `n` sequential round trips.
task<result<std::vector<double>>> round_trips(context& ctx, route to, std::uint64_t n) {
  auto reply_to = ctx.new_detached("bench.");
  const bytes payload(message_size, 'p');
  std::vector<double> us;
  us.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    bytes copy = payload;
    const auto start = bench::clock::now();
    if (auto sent = co_await reply_to.send(to, std::move(copy)); !sent) co_return sent.error();
    auto echo = co_await reply_to.receive_message(30s);
    if (!echo) co_return echo.error();
    us.push_back(std::chrono::duration<double, std::micro>(bench::clock::now() - start).count());
  }
  co_return us;
}

// Seconds to get `m` echoes back with at most `window` messages outstanding.
task<result<double>> windowed(context& ctx, route to, std::uint64_t m, std::uint64_t window) {
  auto reply_to = ctx.new_detached("bench.");
  const bytes payload(message_size, 'p');
  std::uint64_t sent = 0, received = 0;
  const auto start = bench::clock::now();
  while (received < m) {
    while (sent < m && sent - received < window) {
      bytes copy = payload;
      if (auto s = co_await reply_to.send(to, std::move(copy)); !s) co_return s.error();
      ++sent;
    }
    auto echo = co_await reply_to.receive_message(30s);
    if (!echo) co_return echo.error();
    ++received;
  }
  co_return std::chrono::duration<double>(bench::clock::now() - start).count();
}

std::uint64_t count_arg(int argc, char** argv, int i, std::uint64_t fallback) {
  if (argc <= i) return fallback;
  char* end = nullptr;
  const auto v = std::strtoull(argv[i], &end, 10);
  if (*end != '\0' || v == 0) fail(std::string("not a positive count: ") + argv[i]);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_kafka_streams NODUS_BINARY [latency_n [throughput_m [window]]]\n");
    return 2;
  }
  const std::string nodus_binary = argv[1];
  const auto latency_n = count_arg(argc, argv, 2, 2'000);
  const auto throughput_m = count_arg(argc, argv, 3, 10'000);
  const auto window = count_arg(argc, argv, 4, 64);
  alarm(900);  // a hang must fail the benchmark, not stall it (SIGALRM ends the program)

  const char* given = std::getenv("NODUS_BENCH_TMPDIR");
  std::string made = "/tmp/nodus-bench-kafka.XXXXXX";
  if (!given && !::mkdtemp(made.data())) fail("mkdtemp");
  const fs::path dir = given ? fs::path(given) : fs::path(made);

  // The hub first, before this process starts any thread; its stdout comes through a pipe.
  int fds[2];
  if (pipe(fds) != 0) fail("pipe");
  const pid_t hub_pid = spawn({nodus_binary, "hub", "--listen", "127.0.0.1:0"}, 1, dir / "hub.log", fds[1]);
  ::close(fds[1]);
  pin_to(0);
  std::string buffer;
  const std::string hub = read_until(fds[0], "nodus hub listening on ", buffer);
  const std::string bootstrap = read_until(fds[0], "kafka bootstrap ", buffer);
  std::fprintf(stderr, "  hub (pid %d) at %s, kafka bootstrap %s\n", hub_pid, hub.c_str(), bootstrap.c_str());

  {
    auto alice = node::create({.name = "bench-alice", .threads = 1});
    auto bob = node::create({.name = "bench-bob", .threads = 1});
    if (!std::getenv("NODUS_LOG")) {
      alice.log().set_level(spdlog::level::warn);
      bob.log().set_level(spdlog::level::warn);
    }
    if (!tcp_transport::create(alice) || !tcp_transport::create(bob)) fail("tcp transports");
    sc::options listener{.identity = make_identity(), .trust = sc::trust_policy::everyone(), .expose = {"echoer"}};
    auto l = bob.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", listener); });
    if (!l) fail("bob's listener: " + l.error().message());
    if (!bob.start_worker("echoer", echoer{})) fail("bob's echoer");

    // Latency: one conversation, a warm-up of 200 round trips, then N timed one at a time.
    const auto lat = connect(alice, bob, hub);
    const route to_echoer{lat.channel, "echoer"};
    if (auto w = alice.block_on([&](context& ctx) { return round_trips(ctx, to_echoer, 200); }); !w)
      fail("warm-up: " + w.error().message());
    auto us = alice.block_on([&](context& ctx) { return round_trips(ctx, to_echoer, latency_n); });
    if (!us) fail("round trips: " + us.error().message());
    std::fprintf(stderr, "  round trips: %llu, p50 %.0f us, p99 %.0f us, max %.0f us\n",
                 static_cast<unsigned long long>(latency_n), percentile(us.value(), 0.5), percentile(us.value(), 0.99),
                 percentile(us.value(), 1.0));

    // Throughput: a fresh conversation per round, so each topic holds at most M + a few records.
    std::vector<double> rates;
    conversation last;
    for (int i = 0; i < rounds; ++i) {
      last = connect(alice, bob, hub);
      const route to{last.channel, "echoer"};
      auto seconds = alice.block_on([&](context& ctx) { return windowed(ctx, to, throughput_m, window); });
      if (!seconds) fail("windowed run: " + seconds.error().message());
      rates.push_back(static_cast<double>(throughput_m) / seconds.value());
      const auto sa = last.alice->status(), sb = last.bob->status();
      std::fprintf(
          stderr,
          "    bob: %llu delivered in %llu pulls, %llu retries; alice: %llu delivered in %llu pulls, %llu retries\n",
          static_cast<unsigned long long>(sb.delivered), static_cast<unsigned long long>(sb.pulls),
          static_cast<unsigned long long>(sb.retries), static_cast<unsigned long long>(sa.delivered),
          static_cast<unsigned long long>(sa.pulls), static_cast<unsigned long long>(sa.retries));
      std::fprintf(stderr, "  throughput round %d: %.0f msgs/s one way (%llu echoes in %.3f s, window %llu)\n", i + 1,
                   rates.back(), static_cast<unsigned long long>(throughput_m), seconds.value(),
                   static_cast<unsigned long long>(window));
    }

    // What one of those messages is in Kafka: the records on the last round's alice-to-bob
    // topic (sizes and the oldest offset left).
    const auto sizes = run_capture({"kcat", "-C", "-b", bootstrap, "-t", last.to_bob, "-p", "0", "-o", "0", "-e", "-q",
                                    "-f", "%o %S\n", "-X", "fetch.wait.max.ms=10"},
                                   dir, "sizes");
    std::istringstream lines(sizes);
    long long first_offset = -1, offset = 0, bytes_ = 0, records = 0, total = 0;
    std::vector<double> record_sizes;
    while (lines >> offset >> bytes_) {
      if (first_offset < 0) first_offset = offset;
      record_sizes.push_back(static_cast<double>(bytes_));
      total += bytes_;
      ++records;
    }
    if (records == 0) fail("kcat read no records from " + last.to_bob);

    std::printf("kafka_rtt_p50_us %.0f\nkafka_rtt_p99_us %.0f\n", percentile(us.value(), 0.5),
                percentile(us.value(), 0.99));
    std::printf("kafka_msgs_per_s_one_way %.0f\n", median(rates));
    std::printf(
        "kafka_record_bytes %.0f\nkafka_topic_records %lld\nkafka_topic_value_bytes %lld\nkafka_first_offset %lld\n",
        median(record_sizes), records, total, first_offset);
    std::fflush(stdout);
  }

  // The broker's own ceiling: kcat produces M lines of 100 B (one record each) to a fresh
  // topic, then consumes them, same broker, same sizes.
  {
    const auto lines = dir / "records.txt";
    {
      std::ofstream f(lines);
      const std::string line(message_size, 'k');
      for (std::uint64_t i = 0; i < throughput_m; ++i) f << line << '\n';
    }
    std::vector<double> produce, consume;
    for (int i = 0; i < rounds; ++i) {
      const auto topic = stream::unique_name("bench-kcat");
      produce.push_back(static_cast<double>(throughput_m) /
                        run_timed({"kcat", "-P", "-b", bootstrap, "-t", topic, "-p", "0", "-X",
                                   "socket.nagle.disable=true", "-l", lines.string()},
                                  dir / "kcat-produce.log"));
      const auto out = dir / "consumed.txt";
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      consume.push_back(static_cast<double>(throughput_m) /
                        run_timed({"kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "0", "-e", "-q", "-X",
                                   "fetch.wait.max.ms=10", "-X", "socket.nagle.disable=true"},
                                  dir / "kcat-consume.log", fd));
      ::close(fd);
      if (fs::file_size(out) != throughput_m * (message_size + 1)) fail("kcat consumed a different number of bytes");
      std::fprintf(stderr, "  kcat round %d: produce %.0f msgs/s, consume %.0f msgs/s\n", i + 1, produce.back(),
                   consume.back());
    }
    std::printf("kcat_produce_msgs_per_s %.0f\nkcat_consume_msgs_per_s %.0f\n", median(produce), median(consume));
    std::printf("latency_n %llu\nthroughput_m %llu\nwindow %llu\n", static_cast<unsigned long long>(latency_n),
                static_cast<unsigned long long>(throughput_m), static_cast<unsigned long long>(window));
    std::fflush(stdout);
  }

  end_process(hub_pid);
  ::close(fds[0]);
  if (!given) fs::remove_all(dir);
  return 0;
}
