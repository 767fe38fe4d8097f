// nodus hub: a node others connect to. It listens on TCP, lets peers behind NAT register
// relays (forwarding_service) and answers echoes, until SIGINT or SIGTERM.

#include <chrono>
#include <iostream>

#include "cli.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/services/relay.hpp"
#include "nodus/transports/tcp.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

int hub(const std::vector<std::string>& args) {
  std::string listen;
  double stall_seconds = 0;
  std::size_t max_frame = 0;
  po::options_description options("options");
  options.add_options()
      ("help,h", "show this help")
      ("listen", po::value(&listen)->default_value("127.0.0.1:4000"), "HOST:PORT to listen on (port 0 picks one)")
      ("max-frame-size", po::value(&max_frame)->default_value(tcp_frame::default_max_size),
       "largest TCP frame accepted or sent, in bytes")
      ("stall-timeout", po::value(&stall_seconds)->default_value(30),
       "seconds a peer may stay silent in the middle of a frame before it is cut off");
  po::variables_map values;
  if (auto done = parse("hub", "[--listen HOST:PORT]", args, options, {}, values)) return *done;
  if (stall_seconds <= 0 || max_frame == 0) return fail("hub", "--stall-timeout and --max-frame-size must be positive", exit_usage);

  auto n = node::create({.name = "hub"});
  tcp_options tcp_settings;
  tcp_settings.max_frame_size = max_frame;
  tcp_settings.stall_timeout = std::chrono::duration_cast<duration>(std::chrono::duration<double>(stall_seconds));
  auto transport = tcp_transport::create(n, tcp_settings);
  if (!transport) return fail("hub", "cannot start the TCP transport: " + transport.error().message());
  if (auto started = n.start_worker("forwarding_service", services::forwarding_service{}); !started)
    return fail("hub", "cannot start forwarding_service: " + started.error().message());
  if (auto started = n.start_worker("echoer", services::echoer{}); !started)
    return fail("hub", "cannot start echoer: " + started.error().message());
  auto bound = transport.value().listen(listen);
  if (!bound) return fail("hub", "cannot listen on " + listen + ": " + bound.error().message());

  std::cout << "nodus hub listening on " << bound.value() << std::endl;  // flushed: scripts wait for it
  stop_on_signals(n.create_context());
  n.run();  // until SIGINT or SIGTERM
  return 0;
}

}  // namespace nodus::cli
