// nodus hub: a node others connect to. It listens on TCP, lets peers behind NAT register
// relays (forwarding_service), answers echoes, and keeps streams in Kafka (stream_kafka,
// stream_kafka_index) until SIGINT or SIGTERM. Kafka is embedded (librdkafka's mock cluster, in
// this process) unless --kafka-bootstrap names a cluster. With --project it serves the project's
// members only, through secure channels to its listener `members` (hub_members.hpp).

#include <atomic>
#include <chrono>
#include <iostream>

#include "cli.hpp"
#include "hub_members.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/services/echoer.hpp"
#include "nodus/stream_kafka/services.hpp"
#include "nodus/transports/tcp.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

namespace {

struct kafka_settings {
  std::string bootstrap;
  std::string config_file;
  std::uint64_t test_drop_push = 0;
};

// The Kafka client of the stream services: on the cluster the settings name, or on an embedded
// one (then `embedded` is set). A failure is one line for the user.
struct hub_kafka {
  std::shared_ptr<stream_kafka::embedded_kafka> embedded;
  std::shared_ptr<stream_kafka::kafka_client> client;
};

result_or_failure<hub_kafka> start_kafka(const kafka_settings& settings, const std::shared_ptr<spdlog::logger>& log) {
  stream_kafka::kafka_config config;
  if (!settings.config_file.empty()) {
    auto loaded = stream_kafka::kafka_config::load(settings.config_file);
    if (!loaded) return loaded.error();
    config = std::move(loaded).value();
  }
  if (!settings.bootstrap.empty()) config.bootstrap_servers = settings.bootstrap;
  hub_kafka kafka;
  if (config.bootstrap_servers.empty()) {
    if (!config.properties.empty())
      return nodus::fail(
          std::make_error_code(std::errc::invalid_argument),
          "--kafka-config needs --kafka-bootstrap (or bootstrap.servers in the file): the embedded Kafka "
          "takes no properties");
    auto embedded = stream_kafka::embedded_kafka::start(log);
    if (!embedded) return embedded.error();
    kafka.embedded = embedded.value();
    config.bootstrap_servers = kafka.embedded->bootstrap();
  }
  stream_kafka::kafka_client_options options;
  options.config = std::move(config);
  options.embedded = kafka.embedded;
  options.log = log;
  auto client = stream_kafka::kafka_client::create(std::move(options));
  if (!client) return client.error();
  kafka.client = client.value();
  return kafka;
}

}  // namespace

int hub(const std::vector<std::string>& args) {
  std::string listen;
  double deadline_seconds = 0;
  double stall_seconds = 0;  // --stall-timeout, the old name of --frame-deadline
  std::size_t max_frame = 0;
  const tcp_options tcp_defaults;
  // Signed, so that a negative value is refused rather than wrapped round to a huge one.
  auto max_connections = static_cast<long long>(tcp_defaults.max_connections);
  auto max_buffered = static_cast<long long>(tcp_defaults.max_buffered_bytes);
  kafka_settings kafka_options;
  std::string allow_outgoing;
  hub_member_settings member;
  po::options_description options("options");
  // clang-format off
  options.add_options()
      ("help,h", "show this help")
      ("listen", po::value(&listen)->default_value("127.0.0.1:4000"), "HOST:PORT to listen on (port 0 picks one)")
      ("max-frame-size", po::value(&max_frame)->default_value(tcp_frame::default_max_size),
       "largest TCP frame accepted or sent, in bytes")
      ("frame-deadline", po::value(&deadline_seconds)->default_value(30),
       "seconds within which all of a frame must arrive once it has started, or the peer is cut off")
      ("max-connections", po::value(&max_connections)->default_value(max_connections),
       "accepted connections open at once; more are accepted and closed at once")
      ("max-buffered-bytes", po::value(&max_buffered)->default_value(max_buffered),
       "bytes all connections together may hold in frames over 64 KiB while they arrive; the connection "
       "that would go over is closed")
      ("allow-outgoing", po::value(&allow_outgoing),
       "HOST:PORT[,...] that messages from the network may be routed to by a 1#HOST:PORT hop "
       "(default: none, the hub never dials out for a peer)")
      ("kafka-bootstrap", po::value(&kafka_options.bootstrap),
       "HOST:PORT[,...] of the Kafka cluster that keeps the streams (default: an embedded one, in memory)")
      ("kafka-config", po::value(&kafka_options.config_file),
       "FILE of librdkafka properties, key=value lines (security.protocol, sasl.mechanism, sasl.jaas.config, ...)")
      ("project", po::value(&member.project_file),
       "project.json (nodus project show): serve the project's members only, through secure channels")
      ("identity", po::value(&member.identity), "with --project: the hub's identity, enrolled in the project")
      ("vault", po::value(&member.vault), "with --project: the identity's vault (default: $NODUS_HOME/vault)")
      ("state-directory", po::value(&member.state_directory),
       "with --project: DIR keeping which member holds each relay name across restarts "
       "(default: none, bound for the hub's lifetime)");
  po::options_description hidden("test hooks");
  hidden.add_options()
      ("test-drop-push", po::value(&kafka_options.test_drop_push),
       "test hook: confirm the Nth push but never write it (a message deleted in transit)")
      ("stall-timeout", po::value(&stall_seconds), "the old name of --frame-deadline");
  // clang-format on
  po::variables_map values;
  if (auto done = parse("hub",
                        "[--listen HOST:PORT] [--kafka-bootstrap HOST:PORT [--kafka-config FILE]] "
                        "[--project project.json --identity NAME]",
                        args, options, {}, values, &hidden))
    return *done;
  if (member.project_file.empty() != member.identity.empty())
    return fail("hub", "--project and --identity go together (the hub's identity, enrolled in the project)",
                exit_usage);
  if (member.project_file.empty() && (!member.vault.empty() || !member.state_directory.empty()))
    return fail("hub", "--vault and --state-directory go with --project", exit_usage);
  if (values.count("stall-timeout")) {
    if (!values["frame-deadline"].defaulted())
      return fail("hub", "--stall-timeout is the old name of --frame-deadline: give one of them", exit_usage);
    deadline_seconds = stall_seconds;
  }
  if (deadline_seconds <= 0 || max_frame == 0)
    return fail("hub", "--frame-deadline (or --stall-timeout) and --max-frame-size must be positive", exit_usage);
  if (max_connections <= 0) return fail("hub", "--max-connections must be at least 1", exit_usage);
  if (max_buffered <= 0 || static_cast<unsigned long long>(max_buffered) < max_frame)
    return fail("hub",
                "--max-buffered-bytes must be at least --max-frame-size (" + std::to_string(max_frame) +
                    "): a frame that large could never arrive",
                exit_usage);

  // Set (to exit_failure) when the cluster refuses the kafka config's credentials at start.
  std::atomic<int> exit_code = 0;
  auto n = node::create({.name = "hub"});
  auto log = std::make_shared<spdlog::logger>(n.log());  // the node's sinks and level, for librdkafka's lines
  auto kafka = start_kafka(kafka_options, log);
  if (!kafka) {
    const bool mistake =
        kafka.error().code == std::errc::invalid_argument || kafka.error().code == std::errc::no_such_file_or_directory;
    return fail("hub", kafka.error().message(), mistake ? exit_usage : exit_failure);
  }
  tcp_options tcp_settings;
  tcp_settings.max_frame_size = max_frame;
  tcp_settings.frame_deadline = std::chrono::duration_cast<duration>(std::chrono::duration<double>(deadline_seconds));
  tcp_settings.max_connections = static_cast<std::size_t>(max_connections);
  tcp_settings.max_buffered_bytes = static_cast<std::size_t>(max_buffered);
  auto allowed = parse_host_ports(allow_outgoing);
  if (!allowed) return fail("hub", "--allow-outgoing: " + allowed.error().message(), exit_usage);
  tcp_settings.allow_outgoing = std::move(allowed).value();
  auto transport = tcp_transport::create(n, tcp_settings);
  if (!transport) return fail("hub", "cannot start the TCP transport: " + transport.error().message());
  const auto& client = kafka.value().client;
  const std::vector<address> hub_services = {address("forwarding_service"), address("echoer"),
                                             address(std::string(stream_kafka::stream_service_address)),
                                             address(std::string(stream_kafka::index_service_address))};
  relay::forwarding_options relays;
  stream_kafka::stream_service_options stream_options{.kafka = client, .test_drop_push = kafka_options.test_drop_push};
  stream_kafka::index_service_options index_options{.kafka = client};
  // What peers may reach over TCP: exactly the services a hub offers (relays are reachable by
  // name), and for members only, the listener of their channels.
  tcp_listener_options exposed;
  exposed.expose = hub_services;
  std::string members_line;
  if (!member.project_file.empty()) {
    bool usage = false;
    auto joined = start_hub_membership(n, transport.value(), member, client, hub_services, usage);
    if (!joined) return fail("hub", joined.error().message(), usage ? exit_usage : exit_failure);
    relays.members = joined.value().relays;
    stream_options.members = joined.value().streams;
    index_options.members = joined.value().streams;
    // The services stay reachable over TCP, to refuse what does not come through a member's
    // channel with a reason ("for members only: ... through a secure channel to the hub").
    exposed.expose.push_back(address(hub_members_listener));
    members_line = "members only: project " + joined.value().project_id + ", hub " + joined.value().hub_id +
                   ", listener " + hub_members_listener;
  }
  if (auto started = n.start_worker("forwarding_service", relay::forwarding_service(relays)); !started)
    return fail("hub", "cannot start forwarding_service: " + started.error().message());
  if (auto started = n.start_worker("echoer", services::echoer{}); !started)
    return fail("hub", "cannot start echoer: " + started.error().message());
  if (auto started = n.start_worker(std::string(stream_kafka::stream_service_address),
                                    stream_kafka::stream_kafka_service(stream_options));
      !started)
    return fail("hub", "cannot start stream_kafka: " + started.error().message());
  if (auto started = n.start_worker(std::string(stream_kafka::index_service_address),
                                    stream_kafka::stream_kafka_index_service(index_options));
      !started)
    return fail("hub", "cannot start stream_kafka_index: " + started.error().message());
  auto bound = transport.value().listen(listen, std::move(exposed));
  if (!bound) return fail("hub", "cannot listen on " + listen + ": " + bound.error().message());

  std::cout << "nodus hub listening on " << bound.value() << std::endl;  // flushed: scripts wait for it
  const bool embedded = kafka.value().embedded != nullptr;
  std::cout << "kafka bootstrap " << client->bootstrap() << (embedded ? " (embedded)" : "") << std::endl;
  if (!members_line.empty()) std::cout << members_line << std::endl;
  if (embedded) n.log().info("kafka: embedded (librdkafka's mock cluster, in memory) at {}", client->bootstrap());
  if (kafka_options.test_drop_push)
    n.log().warn("test hook: push #{} to stream_kafka will be dropped (confirmed, never written)",
                 kafka_options.test_drop_push);
  // Said at start whether the brokers answer; the services keep answering kafka_unavailable
  // (and librdkafka keeps reconnecting) while they do not.
  // A cluster that refuses the credentials will not change its mind: one line, and the hub stops.
  client->check_cluster([log, &n, &exit_code, where = client->bootstrap()](result_or_failure<std::string> cluster) {
    if (cluster) {
      log->info("kafka: connected to {} ({})", where, cluster.value());
    } else if (cluster.error().code == std::errc::permission_denied) {
      exit_code = fail("hub", cluster.error().message());
      n.request_stop();
    } else {
      log->error("kafka: {}; streams answer kafka_unavailable until it can be reached (retrying)",
                 cluster.error().message());
    }
  });
  stop_on_signals(n.create_context());
  n.run();  // until SIGINT or SIGTERM, or the cluster refuses the credentials
  return exit_code;
}

}  // namespace nodus::cli
