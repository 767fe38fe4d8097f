// nodus: run a hub, send a message, manage identities, run a development Kafka broker.
// `nodus --help` lists the commands.

#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

namespace {

constexpr const char* usage = R"(usage: nodus <command> [options]

commands:
  node                     create, list, show, stop, start, delete nodes that run in the background
  status                   what the default node (or --at NODE) runs
  tcp-listener             create, list, delete a node's TCP listeners
  tcp-connection           create, list, delete a node's outgoing TCP connections
  relay                    register a node's relay at a hub (for a node behind NAT); list, delete
  secure-channel-listener  create, list, delete a node's secure channel listeners
  secure-channel           create (from a node to a listener), list, delete secure channels
  tcp-outlet               create, list, delete: a node carries portal connections to HOST:PORT
  tcp-inlet                create, list, delete: a node accepts TCP clients and carries them to an outlet
  kafka-outlet             create, list, delete: a node reaches a Kafka cluster for Kafka inlets
  kafka-inlet              create, list, delete: a node accepts Kafka clients (kafka-consumer and
                           kafka-producer: the same, on the seeds' ports 4000 and 5000)
  kafka-custodian          create, list, delete, allow, revoke, key list|delete: the keys of
                           end-to-end encrypted Kafka records, on the consumers' node
  transit                  create, list, delete a Vault-transit-compatible encryption service on a
                           node; policy create|list|delete, token create|list|revoke: who may use it
  worker list              the workers a node runs
  message send             send a text message along a route and print the reply
  hub                      run a hub node in the foreground: TCP listener, relays (forwarding_service),
                           echoer, and the Kafka-backed stream services (stream_kafka, stream_kafka_index)
  identity                 create, list, show or rotate named identities in a vault ($NODUS_HOME/vault)
  project                  create (a node becomes a project's authority), show, ticket, enroll, member
                           list|delete: who belongs, with credentials that policies check
  kafka-dev                run a development Kafka broker (librdkafka's mock cluster) on loopback
  kafka decode             print one Kafka request or response frame as JSON

Routes: Nodus text ('1#127.0.0.1:4000 => forward_to_bob => listener') or Ockam's
(/ip4/127.0.0.1/tcp/4000/service/forward_to_bob, /node/NAME/service/echoer).
Nodes keep their state in $NODUS_HOME (~/.nodus); --at NODE picks one, `default` otherwise.

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
  if (command == "--version" || command == "version") {
    std::cout << "nodus " << NODUS_VERSION << '\n';
    return 0;
  }
  if (command == "hub") return nodus::cli::hub(args);
  if (command == "node") return nodus::cli::node_command(args);
  if (command == "status") return nodus::cli::status(args);
  if (command == "worker") return nodus::cli::worker(args);
  if (command == "tcp-listener") return nodus::cli::tcp_listener(args);
  if (command == "tcp-connection") return nodus::cli::tcp_connection(args);
  if (command == "relay") return nodus::cli::relay(args);
  if (command == "secure-channel-listener") return nodus::cli::secure_channel_listener(args);
  if (command == "secure-channel") return nodus::cli::secure_channel(args);
  if (command == "tcp-outlet") return nodus::cli::tcp_outlet(args);
  if (command == "tcp-inlet") return nodus::cli::tcp_inlet(args);
  if (command == "kafka-outlet") return nodus::cli::kafka_outlet(args);
  if (command == "kafka-inlet") return nodus::cli::kafka_inlet(args);
  if (command == "kafka-consumer") return nodus::cli::kafka_consumer(args);
  if (command == "kafka-producer") return nodus::cli::kafka_producer(args);
  if (command == "kafka-custodian") return nodus::cli::kafka_custodian(args);
  if (command == "transit") return nodus::cli::transit(args);
  if (command == "identity") return nodus::cli::identity(args);
  if (command == "project") return nodus::cli::project(args);
  if (command == "kafka-dev") return nodus::cli::kafka_dev(args);
  if (command == "kafka") return nodus::cli::kafka(args);
  if (command == "message") {
    if (!args.empty() && args[0] == "send") return nodus::cli::message_send({args.begin() + 1, args.end()});
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::cout << "usage: nodus message send TEXT --to ROUTE [--from NODE]\n";
      return 0;
    }
    return nodus::cli::fail("message", "expected 'send' (see: nodus message send --help)", nodus::cli::exit_usage);
  }
  return nodus::cli::fail(command, "unknown command (see: nodus --help)", nodus::cli::exit_usage);
}
