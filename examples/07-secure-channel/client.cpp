// 07-secure-channel client: opens a secure channel to the server's listener over TCP, sends its
// arguments through it to the server's echoer and prints each echo.
//
//   07-secure-channel-client [--connect HOST:PORT] [--vault DIR --identity NAME] [TEXT...]
//
// HOST:PORT defaults to 127.0.0.1:4000, TEXT to "Hello secure Nodus!". Without --vault the
// client's identity is new each run; with --vault DIR --identity NAME it is saved in DIR on the
// first run and loaded on later ones, so the server sees the same identifier every time.
// Exits 0 once every echo came back, 1 (with one line saying why) otherwise.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "nodus/node/main.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/transports/tcp.hpp"

namespace sc = nodus::secure_channel;
using namespace std::chrono_literals;

namespace {

// A new identity in an in-memory vault, or the one named `name` in the directory vault `dir`
// (created with mode 0700, key files 0600), made on first use.
nodus::result_or_failure<nodus::vault::identity> load_identity(const std::string& dir, const std::string& name) {
  if (dir.empty()) return nodus::vault::identity::create(nodus::vault::vault::create_in_memory());
  auto vault = nodus::vault::vault::open_directory(dir);
  if (!vault) return vault.error();
  return nodus::vault::identity_store(vault.value()).load_or_create(name);
}

int failed(const std::string& why) {
  std::fprintf(stderr, "07-secure-channel-client: %s\n", why.c_str());
  return 1;
}

struct settings {
  std::string server, vault, identity;
  std::vector<std::string> texts;
};

nodus::task<int> program(nodus::context& ctx, settings s) {
  // Failures are reported in one line below; the node's own log shows only when NODUS_LOG is set.
  if (!std::getenv("NODUS_LOG")) ctx.log().set_level(spdlog::level::off);
  nodus::tcp_options tcp_options;  // named: no braced temporaries in a co_await (g++ 12)
  auto tcp = co_await nodus::tcp_transport::create(ctx, tcp_options);
  if (!tcp) co_return failed("cannot start the TCP transport");

  // 1. Our identity (see load_identity above), made ready for handshakes.
  auto identity = load_identity(s.vault, s.identity);
  if (!identity) co_return failed(identity.error().message());
  auto me = sc::channel_identity::create(std::move(identity).value());
  if (!me) co_return failed(me.error().message());
  std::printf("client identifier: %s\n", me.value().id().c_str());

  // 2. Connect to the server. (The first message would connect too; connecting first reports an
  //    unreachable server at once instead of as a handshake timeout.)
  auto connected = co_await tcp.value().connect(s.server);
  if (!connected) co_return failed("cannot connect to " + s.server + ": " + connected.error().message());

  // 3. The handshake with the server's listener, over TCP. Both sides prove who they are; this
  //    client trusts any server (sc::trust_policy::identifier(ID) would accept only one).
  const nodus::route to_listener{nodus::tcp(s.server), "listener"};
  sc::options channel_options{.identity = me.value(), .trust = sc::trust_policy::everyone(), .handshake_timeout = 5s};
  auto channel = co_await sc::create_secure_channel(ctx, to_listener, channel_options);
  if (!channel) co_return failed("no secure channel to " + to_listener.to_string() + ": " + channel.error().message());
  std::printf("secure channel established; server identifier: %s\n", channel.value().peer().c_str());

  // 4. route{channel, "echoer"}: the channel encrypts the message, including the rest of its
  //    route; the server's end decrypts it and delivers it to its "echoer". The echo comes back
  //    through the channel too.
  const nodus::route to_echoer{channel.value().address(), "echoer"};
  for (const auto& text : s.texts) {
    auto echo = co_await ctx.send_and_receive<std::string>(to_echoer, text, 5s);
    if (!echo) co_return failed("no echo of '" + text + "': " + echo.error().message());
    std::printf("client received: %s\n", echo.value().body().c_str());
  }

  // 5. Close the channel: the server's end is told, with an authenticated Close message.
  (void)co_await sc::close_secure_channel(ctx, channel.value().address());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt{{"--connect", "127.0.0.1:4000"}, {"--vault", ""}, {"--identity", ""}};
  std::vector<std::string> texts;
  bool misused = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.starts_with("--")) {
      texts.push_back(arg);
    } else if (opt.contains(arg) && i + 1 < argc) {
      opt[arg] = argv[++i];
    } else {
      misused = true;
    }
  }
  if (misused || opt["--vault"].empty() != opt["--identity"].empty()) {
    std::fprintf(stderr, "usage: %s [--connect HOST:PORT] [--vault DIR --identity NAME] [TEXT...]\n", argv[0]);
    return 2;
  }
  if (texts.empty()) texts.push_back("Hello secure Nodus!");
  const settings s{opt["--connect"], opt["--vault"], opt["--identity"], texts};
  return nodus::run_main({.name = "07-secure-channel-client"}, [s](nodus::context& ctx) { return program(ctx, s); });
}
