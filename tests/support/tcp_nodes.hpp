#pragma once
// Nodes with the TCP transport, and waits bounded in time, for tests over loopback.

#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "eventually.hpp"
#include "log_capture.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/transports/tcp.hpp"
#include "ports.hpp"

namespace nodus::test {

using namespace std::chrono_literals;

/// A node with the TCP transport, listening on `listen` when it is given (its connections
/// reach the workers in `exposed`), and an echoer at "echoer" unless `with_echoer` is false.
/// Its log lines are kept in `logs`.
struct tcp_node {
  explicit tcp_node(std::string_view listen = {}, tcp_options options = {}, bool with_echoer = true,
                    std::vector<address> exposed = {"echoer"})
      : n(node::create({.name = "test", .threads = 2, .logger = logs.logger()})),
        transport(tcp_transport::create(n, options).value()) {
    if (with_echoer) REQUIRE(n.start_worker("echoer", services::echoer{}));
    if (!listen.empty()) bound = transport.listen(listen, {.expose = std::move(exposed)}).value();
  }
  log_capture logs;
  node n;
  tcp_transport transport;
  std::string bound;  ///< `host:port` it listens on, if it does
};

inline task<result<routed<std::string>>> ask(context& ctx, route to, std::string text, duration timeout) {
  co_return co_await ctx.send_and_receive<std::string>(std::move(to), std::move(text), timeout);
}

/// Sends `text` along `to` and waits (at most `timeout`) for the reply.
inline result<routed<std::string>> echo(node& n, route to, std::string text = "hello", duration timeout = 5s) {
  return n.block_on([&](context& ctx) { return ask(ctx, to, text, timeout); });
}

inline std::uint16_t port_of(const std::string& host_port) {
  return static_cast<std::uint16_t>(std::stoi(host_port.substr(host_port.rfind(':') + 1)));
}

}  // namespace nodus::test
