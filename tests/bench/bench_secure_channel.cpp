// bench_secure_channel: secure channels inside one node (2 threads), next to what the CPU can do
// for the same cryptography, measured with `openssl speed` in the same run. See
// tests/bench/README.md, "Secure channels".
//
//   sc_handshakes_per_s            sequential create_secure_channel calls to a listener on the
//                                  same node; the CPU limit is 1 / (8 / x25519 + 4 / verify)
//   sc_handshakes_concurrent_per_s the same with NODUS_BENCH_CONCURRENT (8) initiators at once
//   sc_<size>_*                    one direction through a channel to a counting worker at the
//                                  other end, against `openssl speed -evp aes-256-gcm -bytes size`
//                                  (and, for 64 B, with -aead: a nonce and a tag per message)
//   local_<size>_*                 the same messages sent to the counting worker directly, no
//                                  channel: what the runtime alone costs
//
// Usage: bench_secure_channel [handshakes_n [small_n [bulk_16k_n [bulk_64k_n]]]]
// NODUS_BENCH_OPENSSL_SECONDS (3): the length of each `openssl speed` measurement.
// NODUS_BENCH_WINDOW_BYTES (1 MiB): the sender keeps at most this many bytes of messages
// unacknowledged (at least 2 messages; the counting worker acknowledges every half window); with
// 0 only the mailboxes' back-pressure bounds it (1024 messages per mailbox by default).
// NODUS_BENCH_ONLY=handshakes|64B|16KiB|64KiB: only that part (for profiling).
// NODUS_BENCH_CHANNEL_ONLY=1: only the channel runs, no baseline (no local or openssl runs, no
// ratios): a profile of the process then shows nothing but the channel.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_processes.hpp"
#include "bench_support.hpp"
#include "nodus/node/node.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"

namespace {

namespace bench = nodus::bench;
namespace sc = nodus::secure_channel;
using nodus::bytes;
using nodus::context;
using nodus::local_message;
using nodus::result;
using nodus::route;
using nodus::task;
using nodus::bench::median;

constexpr unsigned node_threads = 2;
constexpr auto reply_timeout = std::chrono::seconds(60);

// ---- settings ------------------------------------------------------------------------------

std::uint64_t env_count(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct sizes {
  std::uint64_t handshakes = 1'000;
  std::uint64_t small = 500'000;    // 64 B messages
  std::uint64_t bulk_16k = 20'000;  // 16 KiB messages (328 MB)
  std::uint64_t bulk_64k = 5'000;   // 64 KiB messages (328 MB)
};

sizes parse_sizes(int argc, char** argv) {
  sizes s;
  std::uint64_t* fields[] = {&s.handshakes, &s.small, &s.bulk_16k, &s.bulk_64k};
  for (int i = 1; i < argc && i <= 4; ++i) {
    char* end = nullptr;
    const auto v = std::strtoull(argv[i], &end, 10);
    if (*end != '\0' || v == 0) bench::fail(std::string("not a positive count: ") + argv[i]);
    *fields[i - 1] = v;
  }
  return s;
}
// ---- openssl speed, in the same run --------------------------------------------------------

// Runs `command` through the shell and returns its standard output; fails the program when it
// cannot run or exits with an error.
std::string run_command(const std::string& command) {
  std::fflush(nullptr);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) bench::fail("cannot run: " + command);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  if (::pclose(pipe) != 0) bench::fail("failed: " + command);
  return out;
}

// The `:`-separated fields of the first line of `out` that starts with `prefix` (openssl
// speed's -mr output, e.g. "+F6:0:253:Ed25519:31082.05:11085.00").
std::vector<std::string> mr_fields(const std::string& out, const std::string& prefix) {
  for (std::size_t at = 0; at < out.size();) {
    auto end = out.find('\n', at);
    if (end == std::string::npos) end = out.size();
    const auto line = out.substr(at, end - at);
    at = end + 1;
    if (line.rfind(prefix, 0) != 0) continue;
    std::vector<std::string> fields;
    for (std::size_t from = 0;;) {
      const auto colon = line.find(':', from);
      fields.push_back(line.substr(from, colon - from));
      if (colon == std::string::npos) break;
      from = colon + 1;
    }
    return fields;
  }
  bench::fail("no '" + prefix + "' line in openssl speed's output:\n" + out);
}

double field(const std::vector<std::string>& fields, std::size_t i) {
  if (i >= fields.size()) bench::fail("openssl speed: a short -mr line");
  return std::strtod(fields[i].c_str(), nullptr);
}

// `-elapsed`: wall-clock time as the divisor, as the Nodus runs are measured (the default is
// CPU time, which would not show a busy machine).
std::string openssl_speed() {
  return "openssl speed -mr -elapsed -seconds " + std::to_string(env_count("NODUS_BENCH_OPENSSL_SECONDS", 3)) + " ";
}

struct asymmetric_speed {
  double x25519 = 0;          // X25519 derivations per second
  double ed25519_sign = 0;    // per second
  double ed25519_verify = 0;  // per second
};

asymmetric_speed measure_asymmetric() {
  const auto out = run_command(openssl_speed() + "ecdhx25519 ed25519 2>/dev/null");
  const auto ecdh = mr_fields(out, "+F5:");   // +F5:<index>:<bits>:<ops/s>:<s per op>
  const auto eddsa = mr_fields(out, "+F6:");  // +F6:<index>:<bits>:<name>:<sign/s>:<verify/s>
  return {.x25519 = field(ecdh, 3), .ed25519_sign = field(eddsa, 4), .ed25519_verify = field(eddsa, 5)};
}

// AES-256-GCM encryption of `size`-byte buffers, in bytes per second. Plain `-evp` streams the
// buffers through one context (no nonce, no tag per buffer); `-aead` seals each buffer as a
// message (nonce, AAD, tag: what a channel does per message), which matters for small ones.
double measure_aes_gcm(std::size_t size, bool per_message = false) {
  const auto out = run_command(openssl_speed() + (per_message ? "-aead " : "") + "-evp aes-256-gcm -bytes " +
                               std::to_string(size) + " 2>/dev/null");
  return field(mr_fields(out, "+F:"), 3);  // +F:<index>:AES-256-GCM:<bytes/s>
}

// Per handshake the two sides together compute 8 X25519 operations (each side: one ephemeral
// key generation and three DH: ee, es, se) and 4 Ed25519 verifications (each side verifies the
// peer's history, one self-signed change, and the attestation of the peer's static key); no
// signature (attestations are made once per channel_identity). On one core, at best:
double handshake_cpu_limit(const asymmetric_speed& s) { return 1.0 / (8.0 / s.x25519 + 4.0 / s.ed25519_verify); }

// ---- the two parties ----------------------------------------------------------------------

struct parties {
  sc::channel_identity alice, bob;
};

sc::channel_identity make_identity() {
  auto keys = nodus::vault::vault::create_in_memory();
  auto id = nodus::vault::identity::create(keys, nodus::vault::key_lifetime::ephemeral);
  if (!id) bench::fail("identity: " + id.error().message());
  auto made = sc::channel_identity::create(std::move(id).value());
  if (!made) bench::fail("channel identity: " + made.error().message());
  return std::move(made).value();
}

sc::options options_for(const sc::channel_identity& who) {
  sc::options o;
  o.identity = who;
  o.trust = sc::trust_policy::everyone();
  o.expose = {"sink"};
  return o;
}

nodus::node make_node() { return nodus::node::create({.name = "bench", .threads = node_threads}); }

void start_listener(nodus::node& node, const parties& p) {
  auto l = node.block_on(
      [&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", options_for(p.bob)); });
  if (!l) bench::fail("listener: " + l.error().message());
}

sc::channel connect(nodus::node& node, const parties& p) {
  auto ch = node.block_on(
      [&](context& ctx) { return sc::create_secure_channel(ctx, route{"listener"}, options_for(p.alice)); });
  if (!ch) bench::fail("create_secure_channel: " + ch.error().message());
  return std::move(ch).value();
}

// ---- handshakes ----------------------------------------------------------------------------

/// What the initiators of one run share: the count of initiators still running.
struct handshake_run {
  std::atomic<unsigned> running{0};
  bench::completion done;
};

/// On a kick, makes `count` channels to the listener one after the other.
class initiator final : public nodus::worker<std::uint64_t> {
public:
  initiator(sc::options o, handshake_run& run) : options_(std::move(o)), run_(&run) {}
  task<result<>> handle_message(context& ctx, nodus::routed<std::uint64_t> kick) override {
    for (std::uint64_t i = 0; i < kick.body(); ++i) {
      auto ch = co_await sc::create_secure_channel(ctx, to_, options_);
      if (!ch) bench::fail("create_secure_channel: " + ch.error().message());
    }
    if (--run_->running == 0) run_->done.finish();
    co_return nodus::ok();
  }

private:
  route to_{"listener"};
  sc::options options_;
  handshake_run* run_;
};

// `n` handshakes made by `concurrent` initiators, on a fresh node; handshakes per second.
double handshakes_once(const parties& p, std::uint64_t n, unsigned concurrent) {
  auto node = make_node();
  start_listener(node, p);
  handshake_run run;
  run.running = concurrent;
  for (unsigned i = 0; i < concurrent; ++i) {
    auto started =
        node.start_worker(nodus::address("initiator." + std::to_string(i)), initiator{options_for(p.alice), run});
    if (!started) bench::fail("initiator: " + started.error().message());
  }
  run.done.start();
  for (unsigned i = 0; i < concurrent; ++i) {
    const auto share = n / concurrent + (i < n % concurrent ? 1 : 0);
    const route to{nodus::address("initiator." + std::to_string(i))};
    auto kicked = node.block_on([&](context& ctx) { return ctx.send(to, std::uint64_t{share}); });
    if (!kicked) bench::fail("kick: " + kicked.error().message());
  }
  run.done.wait("handshakes");
  return static_cast<double>(n) / run.done.seconds();
}

// ---- one-way streams -----------------------------------------------------------------------

/// Counts messages; tells `ack_to` how many it has after every `ack_every` (0: never) and
/// after the last.
class sink final : public nodus::raw_worker {
public:
  sink(std::uint64_t expected, std::uint64_t ack_every, route ack_to)
      : expected_(expected), ack_every_(ack_every), ack_to_(std::move(ack_to)) {}
  task<result<>> handle_message(context& ctx, local_message) override {
    ++received_;
    if (received_ == expected_ || (ack_every_ != 0 && received_ % ack_every_ == 0))
      co_return co_await ctx.send(ack_to_, received_);
    co_return nodus::ok();
  }

private:
  std::uint64_t expected_;
  std::uint64_t ack_every_;
  route ack_to_;
  std::uint64_t received_ = 0;
};

/// How many messages the sink has acknowledged, from its next acknowledgement.
task<result<std::uint64_t>> next_ack(context& me) {
  auto ack = co_await me.receive_message(reply_timeout);
  if (!ack) co_return ack.error();
  co_return nodus::message_codec<std::uint64_t>::decode(ack.value().payload);
}

/// Starts a sink at "sink", then sends it `n` messages of `size` bytes along `to` (through a
/// channel or not), each a fresh copy as an application would make it, with at most `window`
/// unacknowledged (0: no limit but the mailboxes'). Seconds from the first send to the last ack.
task<result<double>> stream(context& ctx, route to, std::uint64_t n, std::size_t size, std::uint64_t window) {
  auto me = ctx.new_detached("bench.");
  sink counter(n, window == 0 ? 0 : std::max<std::uint64_t>(1, window / 2), route(me.address()));
  if (auto started = co_await ctx.start_worker(nodus::address("sink"), std::move(counter)); !started)
    co_return started.error();
  const bytes payload(size, 'p');
  std::uint64_t acked = 0;
  const auto start = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    while (window != 0 && i - acked >= window) {
      auto got = co_await next_ack(me);
      if (!got) co_return got.error();
      acked = got.value();
    }
    bytes copy = payload;
    if (auto sent = co_await me.send(to, std::move(copy)); !sent) co_return sent.error();
  }
  while (acked < n) {
    auto got = co_await next_ack(me);
    if (!got) co_return got.error();
    acked = got.value();
  }
  co_return std::chrono::duration<double>(bench::clock::now() - start).count();
}

// Seconds to stream `n` messages of `size` bytes through a fresh channel (or straight to the
// sink when `through_channel` is false), on a fresh node.
double stream_once(const parties& p, bool through_channel, std::uint64_t n, std::size_t size) {
  auto node = make_node();
  route to{"sink"};
  if (through_channel) {
    start_listener(node, p);
    to = route{connect(node, p).address(), "sink"};
  }
  const auto window_bytes = env_count("NODUS_BENCH_WINDOW_BYTES", 1024 * 1024);
  const auto window = window_bytes == 0 ? 0 : std::max<std::uint64_t>(2, window_bytes / size);
  auto seconds = node.block_on([&](context& ctx) { return stream(ctx, to, n, size, window); });
  if (!seconds) bench::fail("stream: " + seconds.error().message());
  return seconds.value();
}

// ---- the comparisons -----------------------------------------------------------------------

void print(const char* name, double value, const char* format = "%.0f") {
  std::printf("%s ", name);
  std::printf(format, value);
  std::printf("\n");
  std::fflush(stdout);
}

bool channel_only() { return env_count("NODUS_BENCH_CHANNEL_ONLY", 0) != 0; }

// Handshakes (sequential and concurrent) alternating with openssl speed, `bench::runs` rounds.
void compare_handshakes(const parties& p, std::uint64_t n) {
  const auto concurrent = static_cast<unsigned>(env_count("NODUS_BENCH_CONCURRENT", 8));
  std::vector<double> sequential, parallel, x25519, verify, limits, ratios;
  for (int i = 0; i < bench::runs; ++i) {
    sequential.push_back(handshakes_once(p, n, 1));
    parallel.push_back(handshakes_once(p, n, concurrent));
    if (channel_only()) {
      std::fprintf(stderr, "  handshakes run %d: %.0f/s sequential, %.0f/s with %u at once\n", i + 1, sequential.back(),
                   parallel.back(), concurrent);
      continue;
    }
    const auto speed = measure_asymmetric();
    x25519.push_back(speed.x25519);
    verify.push_back(speed.ed25519_verify);
    limits.push_back(handshake_cpu_limit(speed));
    ratios.push_back(sequential.back() / limits.back());
    std::fprintf(stderr,
                 "  handshakes run %d: %.0f/s sequential, %.0f/s with %u at once; openssl x25519 %.0f/s, "
                 "ed25519 verify %.0f/s (sign %.0f/s), limit %.0f/s\n",
                 i + 1, sequential.back(), parallel.back(), concurrent, speed.x25519, speed.ed25519_verify,
                 speed.ed25519_sign, limits.back());
  }
  print("sc_handshakes_per_s", median(sequential));
  print("sc_handshakes_concurrent_per_s", median(parallel));
  if (channel_only()) return;
  print("openssl_x25519_ops_per_s", median(x25519));
  print("openssl_ed25519_verify_per_s", median(verify));
  print("handshake_cpu_limit_per_s", median(limits));
  print("ratio_handshakes", median(ratios), "%.3f");
}

// One size: channel, plain local and openssl runs alternate; `unit` is msgs_per_s or MB_per_s.
void compare_stream(const parties& p, const char* name, std::uint64_t n, std::size_t size, bool in_messages) {
  const auto rate = [&](double seconds) {
    return in_messages ? static_cast<double>(n) / seconds : static_cast<double>(n * size) / seconds / 1e6;
  };
  const char* unit = in_messages ? "msgs_per_s" : "MB_per_s";
  std::vector<double> channel, local, aes, aead, ratios;
  // A short run first, not counted: the first run in a process is slower (the allocator grows).
  (void)stream_once(p, true, std::max<std::uint64_t>(1, n / 10), size);
  for (int i = 0; i < bench::runs; ++i) {
    channel.push_back(rate(stream_once(p, true, n, size)));
    if (channel_only()) {
      std::fprintf(stderr, "  %s run %d: channel %.0f %s\n", name, i + 1, channel.back(), unit);
      continue;
    }
    local.push_back(rate(stream_once(p, false, n, size)));
    const auto bytes_per_s = measure_aes_gcm(size);
    aes.push_back(in_messages ? bytes_per_s / static_cast<double>(size) : bytes_per_s / 1e6);
    if (in_messages) aead.push_back(measure_aes_gcm(size, true) / static_cast<double>(size));
    ratios.push_back(channel.back() / aes.back());
    std::fprintf(stderr, "  %s run %d: channel %.0f, no channel %.0f, openssl aes-256-gcm %.0f%s %s\n", name, i + 1,
                 channel.back(), local.back(), aes.back(),
                 in_messages ? (" (-aead " + std::to_string(static_cast<long>(aead.back())) + ")").c_str() : "", unit);
  }
  const auto line = [&](const char* prefix, double value) {
    print((std::string(prefix) + name + "_" + unit).c_str(), value);
  };
  line("sc_", median(channel));
  if (channel_only()) return;
  line("local_", median(local));
  line("openssl_aes_gcm_", median(aes));
  if (in_messages) line("openssl_aes_gcm_aead_", median(aead));
  print((std::string("ratio_") + name).c_str(), median(ratios), "%.3f");
}

}  // namespace

int main(int argc, char** argv) {
  const auto s = parse_sizes(argc, argv);
  const parties p{make_identity(), make_identity()};
  // NODUS_BENCH_ONLY=handshakes|64B|16KiB|64KiB runs one part (for profiling).
  const std::string only = std::getenv("NODUS_BENCH_ONLY") ? std::getenv("NODUS_BENCH_ONLY") : "";
  const auto wanted = [&](const char* part) { return only.empty() || only == part; };
  if (wanted("handshakes")) compare_handshakes(p, s.handshakes);
  if (wanted("64B")) compare_stream(p, "64B", s.small, 64, true);
  if (wanted("16KiB")) compare_stream(p, "16KiB", s.bulk_16k, 16 * 1024, false);
  if (wanted("64KiB")) compare_stream(p, "64KiB", s.bulk_64k, 64 * 1024, false);
  return 0;
}
