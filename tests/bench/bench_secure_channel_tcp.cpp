// bench_secure_channel_tcp: 64 KiB messages one way over loopback TCP between two processes,
// through a secure channel, next to stunnel (TLS 1.3, AES-256-GCM) carrying the same frames in
// the same run. See tests/bench/README.md, "Secure channels".
//
//   sc_tcp_64KiB_MB_per_s        a client node sends N messages through a secure channel over
//                                tcp(...) to a counting worker in the server process
//   stunnel_64KiB_MB_per_s       the same frames (u32 length + 64 KiB) written to a stunnel
//                                client, which carries them over TLS 1.3 to a stunnel server,
//                                which hands them to a plain sink in the server process
//   tcp_64KiB_MB_per_s           the Nodus messages again, over TCP without a channel
//   ratio_sc_over_stunnel        the median of the per-round ratios (runs alternate)
//
// The client (and the stunnel client) run on CPU 0, the server (and the stunnel server) on
// CPU 1. Every process this program starts ends with it: the children are killed by their PID
// at the end, and get SIGTERM from the kernel (PR_SET_PDEATHSIG) if this program dies first.
//
// Usage: bench_secure_channel_tcp [large_n]   (5 000 messages of 64 KiB by default)
// NODUS_BENCH_THREADS (1): threads per node. NODUS_BENCH_TMPDIR: where the stunnel
// configuration, throwaway certificate and logs go (a fresh directory under /tmp otherwise,
// removed at the end).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>  // before Asio's awaitable.hpp

#include "bench_processes.hpp"
#include "bench_support.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/transports/tcp.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus;
namespace sc = nodus::secure_channel;
using namespace nodus::bench;

namespace {

constexpr std::size_t large_size = 64 * 1024;
constexpr int rounds = 5;
sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

int listen_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 16) != 0) fail("listen");
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

// A port free now, for stunnel to listen on (bound and released at once: loopback only, and
// nothing else on this machine picks ports from the ephemeral range at this moment).
std::uint16_t free_port() {
  std::uint16_t port = 0;
  ::close(listen_loopback(port));
  return port;
}

int try_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const auto addr = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
  ::close(fd);
  return -1;
}

// Serves one connection of the stunnel baseline: reads a count, answers 'r' (so the client's
// timing starts after TLS is set up), reads that many frames (u32 length, body), answers 'k'.
void serve_sink(int fd) {
  set_nodelay(fd);
  std::uint64_t count = 0;
  std::uint32_t length = 0;
  bytes body;
  if (read_exactly(fd, &count, sizeof count)) {
    write_all(fd, "r", 1);
    std::uint64_t received = 0;
    while (received < count && read_exactly(fd, &length, 4)) {
      body.resize(ntohl(length));
      if (!read_exactly(fd, body.data(), body.size())) break;
      ++received;
    }
    if (received == count) write_all(fd, "k", 1);
  }
  ::close(fd);
}

// A throwaway self-signed P-256 certificate for the stunnel server.
void make_certificate(const std::filesystem::path& dir) {
  const pid_t p =
      spawn({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-keyout", (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()},
            -1, dir / "openssl.log");
  int status = 0;
  ::waitpid(p, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("openssl req failed (see " + (dir / "openssl.log").string() + ")");
}

// Both ends use TLS 1.3 only, with AES-256-GCM, as the secure channel does.
std::filesystem::path stunnel_config(const std::filesystem::path& dir, const std::string& name, bool client,
                                     std::uint16_t accept, std::uint16_t connect) {
  const auto path = dir / (name + ".conf");
  std::ofstream conf(path);
  conf << "foreground = yes\npid =\ndebug = warning\n"
       << "socket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n"
       << "[bench]\n"
       << (client ? "client = yes\n" : "") << "accept = 127.0.0.1:" << accept << "\nconnect = 127.0.0.1:" << connect
       << "\n"
       << "sslVersionMin = TLSv1.3\nciphersuites = TLS_AES_256_GCM_SHA384\n";
  if (!client) conf << "cert = " << (dir / "cert.pem").string() << "\nkey = " << (dir / "key.pem").string() << "\n";
  if (!conf) fail("cannot write " + path.string());
  return path;
}

void wait_listening(std::uint16_t port, const char* what) {
  for (int i = 0; i < 100; ++i) {
    if (const int fd = try_connect(port); fd >= 0) {
      ::close(fd);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fail(std::string(what) + " is not listening after 5 s");
}

// ---- the server process --------------------------------------------------------------------

sc::channel_identity make_identity() {
  auto id = vault::identity::create(vault::vault::create_in_memory(), vault::key_lifetime::ephemeral);
  if (!id) fail("identity: " + id.error().message());
  auto made = sc::channel_identity::create(std::move(id).value());
  if (!made) fail("channel identity: " + made.error().message());
  return std::move(made).value();
}

// Runs in the forked child: a node (TCP listener, secure channel listener, "sink") and the plain
// sink behind the stunnel server; writes `<host:port> <sink port>` to `report`, then serves
// until SIGTERM.
[[noreturn]] void run_server(int report) {
  std::uint16_t sink_port = 0;
  const int sink = listen_loopback(sink_port);
  std::thread([sink] {
    for (;;) {
      const int fd = ::accept(sink, nullptr, nullptr);
      if (fd < 0) return;
      std::thread(serve_sink, fd).detach();
    }
  }).detach();

  auto n = node::create({.name = "bench-server", .threads = node_threads()});
  auto transport = tcp_transport::create(n);
  if (!transport || !n.start_worker("sink", counter{})) fail("server node");
  sc::options o;
  o.identity = make_identity();
  o.trust = sc::trust_policy::everyone();
  o.expose = {"sink"};
  auto l = n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", o); });
  if (!l) fail("server listener: " + l.error().message());
  const auto bound = transport.value().listen("127.0.0.1:0", {.expose = {"sink", "listener"}});
  if (!bound) fail("server listen");
  const auto line = bound.value() + " " + std::to_string(sink_port) + "\n";
  write_all(report, line.data(), line.size());
  ::close(report);
  stop_on_signals(n.create_context());
  n.run();
  std::_Exit(0);  // the sink's threads are still blocked; nothing to tear down
}

// ---- the client ----------------------------------------------------------------------------

// Seconds to send `n` messages of `size` bytes along `to` and get the sink's answer.
task<result<double>> nodus_stream(context& ctx, route to, std::uint64_t n, std::size_t size) {
  auto reply_to = ctx.new_detached("bench.");
  if (auto sent = co_await reply_to.send(to, n); !sent) co_return sent.error();
  const bytes payload(size, 'p');
  const auto start = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    bytes copy = payload;
    if (auto sent = co_await reply_to.send(to, std::move(copy)); !sent) co_return sent.error();
  }
  auto done = co_await reply_to.receive_message(std::chrono::seconds(60));
  if (!done) co_return done.error();
  co_return std::chrono::duration<double>(bench::clock::now() - start).count();
}

// Seconds to write `n` frames of `size` bytes through the stunnel client at `port` and get the
// sink's answer; the clock starts once the sink has answered that TLS is up.
double stunnel_stream(std::uint16_t port, std::uint64_t n, std::size_t size) {
  const int fd = try_connect(port);
  if (fd < 0) fail("cannot connect to the stunnel client");
  set_nodelay(fd);
  write_all(fd, &n, sizeof n);
  char answer = 0;
  if (!read_exactly(fd, &answer, 1) || answer != 'r') fail("the stunnel path did not come up");
  // Prefix and body in one buffer, as the Nodus transport writes a frame: one write per frame.
  bytes frame(4 + size, 'p');
  const std::uint32_t length = htonl(static_cast<std::uint32_t>(size));
  std::memcpy(frame.data(), &length, 4);
  const auto start = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) write_all(fd, frame.data(), frame.size());
  if (!read_exactly(fd, &answer, 1) || answer != 'k') fail("the stunnel sink did not answer");
  const double seconds = std::chrono::duration<double>(bench::clock::now() - start).count();
  ::close(fd);
  return seconds;
}
struct client {
  node& n;
  std::string server_at;
  sc::options alice;

  double plain(std::uint64_t count) { return run(route{tcp(server_at), "sink"}, count); }

  // A fresh channel per round, made before the clock starts and closed after.
  double secure(std::uint64_t count) {
    const route to_listener{tcp(server_at), "listener"};
    auto ch = n.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, to_listener, alice); });
    if (!ch) fail("create_secure_channel: " + ch.error().message());
    const double seconds = run(route{ch.value().address(), "sink"}, count);
    const auto at = ch.value().address();
    (void)n.block_on([&](context& ctx) { return sc::close_secure_channel(ctx, at); });
    return seconds;
  }

  double run(const route& to, std::uint64_t count) {
    auto seconds = n.block_on([&](context& ctx) { return nodus_stream(ctx, to, count, large_size); });
    if (!seconds) fail("nodus stream: " + seconds.error().message());
    return seconds.value();
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t large_n = 5'000;
  if (argc > 1) large_n = std::strtoull(argv[1], nullptr, 10);
  if (large_n == 0) fail("the count must be positive");
  alarm(900);  // a hang must fail the benchmark, not stall it (SIGALRM ends the program)

  namespace fs = std::filesystem;
  const char* given = std::getenv("NODUS_BENCH_TMPDIR");
  std::string made = "/tmp/nodus-bench-sc.XXXXXX";
  if (!given && !::mkdtemp(made.data())) fail("mkdtemp");
  const fs::path dir = given ? fs::path(given) : fs::path(made);
  make_certificate(dir);

  // The server first, before this process starts any thread.
  int fds[2];
  if (pipe(fds) != 0) fail("pipe");
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t server = fork();
  if (server < 0) fail("fork");
  if (server == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) std::_Exit(1);
    ::close(fds[0]);
    pin_to(1);
    run_server(fds[1]);
  }
  pin_to(0);
  ::close(fds[1]);
  char line[128] = {};
  for (std::size_t got = 0; got < sizeof line - 1 && (got == 0 || line[got - 1] != '\n');) {
    const auto r = ::read(fds[0], line + got, sizeof line - 1 - got);
    if (r <= 0) fail("the server did not report its ports");
    got += static_cast<std::size_t>(r);
  }
  char nodus_at[64] = {};
  unsigned sink_port = 0;
  if (std::sscanf(line, "%63s %u", nodus_at, &sink_port) != 2) fail("server report");

  const auto tls_port = free_port();
  const auto plain_port = free_port();
  const pid_t stunnel_server = spawn(
      {"stunnel4", stunnel_config(dir, "server", false, tls_port, static_cast<std::uint16_t>(sink_port)).string()}, 1,
      dir / "stunnel-server.log");
  const pid_t stunnel_client = spawn({"stunnel4", stunnel_config(dir, "client", true, plain_port, tls_port).string()},
                                     0, dir / "stunnel-client.log");
  wait_listening(tls_port, "the stunnel server");
  wait_listening(plain_port, "the stunnel client");

  {
    auto n = node::create({.name = "bench-client", .threads = node_threads()});
    if (!tcp_transport::create(n)) fail("client transport");
    client c{n, nodus_at, {}};
    c.alice.identity = make_identity();
    c.alice.trust = sc::trust_policy::everyone();

    // A short warm-up of each path: connections, allocator, stunnel's first handshake.
    (void)c.secure(200);
    (void)stunnel_stream(plain_port, 200, large_size);
    (void)c.plain(200);

    const double megabytes = static_cast<double>(large_n * large_size) / 1e6;
    std::vector<double> secure, tunnel, plain, ratios;
    for (int i = 0; i < rounds; ++i) {
      secure.push_back(megabytes / c.secure(large_n));
      tunnel.push_back(megabytes / stunnel_stream(plain_port, large_n, large_size));
      plain.push_back(megabytes / c.plain(large_n));
      ratios.push_back(secure.back() / tunnel.back());
      std::fprintf(stderr, "  64KiB round %d: secure channel %.0f, stunnel %.0f, tcp without channel %.0f MB/s\n",
                   i + 1, secure.back(), tunnel.back(), plain.back());
    }
    std::printf("sc_tcp_64KiB_MB_per_s %.0f\nstunnel_64KiB_MB_per_s %.0f\ntcp_64KiB_MB_per_s %.0f\n", median(secure),
                median(tunnel), median(plain));
    std::printf("ratio_sc_over_stunnel %.3f\n", median(ratios));
    std::fflush(stdout);
  }
  end_process(stunnel_client);
  end_process(stunnel_server);
  end_process(server);
  if (!given) fs::remove_all(dir);
  return 0;
}
