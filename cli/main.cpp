// nodus: run a hub, send a message, manage identities, run a development Kafka broker.
// `nodus --help` lists the commands.

#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

namespace {

constexpr const char* usage = R"(usage: nodus <command> [options]

commands:
  hub            run a hub node: TCP listener, relays (forwarding_service), echoer, and the
                 Kafka-backed stream services (stream_kafka, stream_kafka_index)
  message send   send a text message along a route and print the reply
  identity       create, list, show or rotate named identities in a vault directory
  kafka-dev      run a development Kafka broker (librdkafka's mock cluster) on loopback

`nodus <command> --help` describes each command's options.
Logging: NODUS_LOG=trace|debug|info|warn|error|off (info by default), on stderr.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage;
    return args.empty() ? nodus::cli::exit_usage : 0;
  }
  const auto command = args[0];
  args.erase(args.begin());
  if (command == "hub") return nodus::cli::hub(args);
  if (command == "identity") return nodus::cli::identity(args);
  if (command == "kafka-dev") return nodus::cli::kafka_dev(args);
  if (command == "message") {
    if (!args.empty() && args[0] == "send") return nodus::cli::message_send({args.begin() + 1, args.end()});
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::cout << "usage: nodus message send --to ROUTE TEXT\n";
      return 0;
    }
    return nodus::cli::fail("message", "expected 'send' (see: nodus message send --help)", nodus::cli::exit_usage);
  }
  return nodus::cli::fail(command, "unknown command (see: nodus --help)", nodus::cli::exit_usage);
}
