// nodus message send: sends one text message along a route and prints the reply.

#include <cstdlib>
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli.hpp"
#include "nodus/node/node.hpp"
#include "nodus/transports/tcp.hpp"
#include "route_text.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

namespace {

task<result<address>> connect_first_hop(tcp_transport transport, std::string peer) {
  co_return co_await transport.connect(std::move(peer));
}

// A delivery error from a node on the way (no such worker, refused) comes back with its reason.
task<result_or_failure<std::string>> send_text(context& ctx, route to, std::string text, duration timeout) {
  auto reply = co_await ctx.send_and_receive_or_failure<std::string>(std::move(to), std::move(text), timeout);
  if (!reply) co_return reply.error();
  co_return std::move(reply).value().body();
}

}  // namespace

int message_send(const std::vector<std::string>& args) {
  std::string to;
  std::string from;
  std::string text;
  double timeout_seconds = 0;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("to", po::value(&to)->required(),
                                                    "the route, e.g. '1#127.0.0.1:4000 => echoer'")(
      "timeout", po::value(&timeout_seconds)->default_value(5), "seconds to wait for the reply")(
      "from", po::value(&from),
      "the node that sends it (nodus node create); default: a short-lived node in this process")(
      "text", po::value(&text)->required(), "the message (positional)");
  po::positional_options_description positional;
  positional.add("text", 1);
  po::variables_map values;
  if (auto done = parse("message send", "TEXT --to ROUTE [--from NODE]", args, options, positional, values))
    return *done;
  if (timeout_seconds <= 0) return fail("message send", "--timeout must be positive", exit_usage);
  if (!from.empty()) return message_send_from_node(from, to, text, timeout_seconds);
  auto typed = parse_user_route(to);
  if (!typed) return fail("message send", typed.error().message(), exit_usage);
  if (!typed.value().via.empty())
    return fail("message send", "/secure/ in --to needs a node: use --from NODE with a channel it made", exit_usage);
  auto destination = route::parse(typed.value().route);
  if (!destination)
    return fail("message send", "'" + to + "' is not a route (" + destination.error().message() + ")", exit_usage);
  const auto timeout = std::chrono::duration_cast<duration>(std::chrono::duration<double>(timeout_seconds));

  auto n = node::create({.name = "nodus", .threads = 1});
  // This command reports its own outcome in one line; the node's log is for when it is asked for.
  if (!std::getenv("NODUS_LOG")) n.log().set_level(spdlog::level::off);
  auto transport = tcp_transport::create(n);
  if (!transport) return fail("message send", "cannot start the TCP transport: " + transport.error().message());
  // Connect first, so an unreachable hub is reported at once rather than as a timeout.
  const auto& first = destination.value().next();
  if (first.type() == tcp_type) {
    auto connected = n.block_on([&](context&) { return connect_first_hop(transport.value(), first.value()); });
    if (!connected)
      return fail("message send", "cannot connect to " + first.value() + ": " + connected.error().message());
  }
  auto reply = n.block_on([&](context& ctx) { return send_text(ctx, destination.value(), text, timeout); });
  if (!reply) {
    const auto& why = reply.error();
    if (why.code == errc::timeout)
      return fail("message send", "no reply from " + to + " within " + std::to_string(timeout.count()) + " ms");
    const auto via = why.reason.empty() || first.type() != tcp_type ? "" : " (reported via " + first.value() + ")";
    return fail("message send", "sending to " + to + " failed: " + why.message() + via);
  }
  std::cout << reply.value() << std::endl;
  return 0;
}

}  // namespace nodus::cli
