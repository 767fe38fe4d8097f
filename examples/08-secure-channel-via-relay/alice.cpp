// 08-secure-channel-via-relay alice: opens a secure channel to Bob through the hub's relay and
// sends lines to Bob's echoer through it. The hub carries every message but sees only ciphertext
// (with NODUS_LOG=trace, `nodus hub` logs every payload it receives and every one its relay forwards).
//
//   08-secure-channel-via-relay-alice [--hub HOST:PORT] [--trust BOB_ID] [TEXT...]
//
// HOST:PORT defaults to 127.0.0.1:4000. With --trust, only the identity BOB_ID (printed by bob)
// is accepted at the far end; without it, any identity is. Sends each TEXT, or each line of its
// input when there is none, and prints each echo. Exits 0 once every echo came back, 1 (with
// one line saying why) otherwise: e.g. when the far end is not BOB_ID.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "nodus/node/node.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/transports/tcp.hpp"

namespace sc = nodus::secure_channel;
using namespace std::chrono_literals;

namespace {

int failed(const std::string& why) {
  std::fprintf(stderr, "08-secure-channel-via-relay-alice: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt{{"--hub", "127.0.0.1:4000"}, {"--trust", ""}};
  std::vector<std::string> texts;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.starts_with("--")) {
      texts.push_back(arg);
    } else if (opt.contains(arg) && i + 1 < argc) {
      opt[arg] = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--hub HOST:PORT] [--trust BOB_ID] [TEXT...]\n", argv[0]);
      return 2;
    }
  }

  auto node = nodus::node::create({.name = "08-secure-channel-via-relay-alice"});
  // Failures are reported in one line below; the node's own log shows only when NODUS_LOG is set.
  if (!std::getenv("NODUS_LOG")) node.log().set_level(spdlog::level::off);
  auto tcp = nodus::tcp_transport::create(node);
  if (!tcp) return failed("cannot start the TCP transport");

  // 1. Alice's identity, new each run (see 07-secure-channel-client for a persistent one).
  auto identity = nodus::vault::identity::create(nodus::vault::vault::create_in_memory());
  if (!identity) return failed(identity.error().message());
  auto alice = sc::channel_identity::create(std::move(identity).value());
  if (!alice) return failed(alice.error().message());

  // 2. Whom to trust at the far end: only Bob's identifier when it is known. A refusal ends the
  //    handshake on both sides, and the error names the identifier that was refused.
  sc::options channel_options{.identity = alice.value(), .trust = sc::trust_policy::everyone()};
  if (!opt["--trust"].empty()) channel_options.trust = sc::trust_policy::identifier(opt["--trust"]);
  channel_options.handshake_timeout = 5s;

  // 3. The handshake runs through the hub and Bob's relay to Bob's listener. The hub passes the
  //    handshake messages on like any others; it cannot take part in them. (Connecting to the
  //    hub first reports an unreachable hub at once rather than as a handshake timeout.)
  const std::string hub = opt["--hub"];
  auto connected = node.block_on([&](nodus::context&) { return tcp.value().connect(hub); });
  if (!connected) return failed("cannot connect to the hub at " + hub + ": " + connected.error().message());
  const nodus::route to_bob{nodus::tcp(hub), "forward_to_bob", "listener"};
  auto channel =
      node.block_on([&](nodus::context& ctx) { return sc::create_secure_channel(ctx, to_bob, channel_options); });
  if (!channel) return failed("no secure channel to " + to_bob.to_string() + ": " + channel.error().message());
  std::printf("alice: secure channel to %s\n", channel.value().peer().c_str());
  std::fflush(stdout);

  // 4. Each line through the channel to Bob's echoer, and its echo back.
  const bool from_input = texts.empty();
  std::string line;
  for (std::size_t i = 0; from_input ? bool(std::getline(std::cin, line)) : i < texts.size(); ++i) {
    const std::string& text = from_input ? line : texts[i];
    auto echo = node.send_and_receive<std::string>(nodus::route{channel.value().address(), "echoer"}, text, 5s);
    if (!echo) return failed("no echo of '" + text + "': " + echo.error().message());
    std::printf("alice received: %s\n", echo.value().c_str());
    std::fflush(stdout);
  }
  (void)node.block_on([&](nodus::context& ctx) { return sc::close_secure_channel(ctx, channel.value().address()); });
  return 0;
}
