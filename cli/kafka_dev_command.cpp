// nodus kafka-dev: librdkafka's mock cluster alone, on loopback, until SIGINT or SIGTERM. A hub
// started with --kafka-bootstrap on it can be restarted without losing its streams and indexes
// (they live here, in memory). Any Kafka client (kcat, kafka-python, ...) can connect to it.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/node/node.hpp"
#include "nodus/stream_kafka/kafka.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

namespace {

// Written whole under another name, then renamed: a reader never sees half an address.
bool write_atomically(const std::string& path, const std::string& text) {
  const auto temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text << '\n';
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  return !ec;
}

}  // namespace

int kafka_dev(const std::vector<std::string>& args) {
  std::string bootstrap_file;
  int brokers = 1;
  po::options_description options("options");
  // clang-format off
  options.add_options()
      ("help,h", "show this help")
      ("bootstrap-file", po::value(&bootstrap_file), "also write the bootstrap address (HOST:PORT) to FILE")
      ("brokers", po::value(&brokers)->default_value(1), "number of brokers");
  // clang-format on
  po::variables_map values;
  if (auto done = parse("kafka-dev", "[--bootstrap-file FILE]", args, options, {}, values)) return *done;
  if (brokers < 1 || brokers > 16) return fail("kafka-dev", "--brokers must be between 1 and 16", exit_usage);

  auto n = node::create({.name = "kafka-dev", .threads = 1});
  auto kafka = stream_kafka::embedded_kafka::start(std::make_shared<spdlog::logger>(n.log()), brokers);
  if (!kafka) return fail("kafka-dev", kafka.error().message());
  const auto& bootstrap = kafka.value()->bootstrap();
  if (!bootstrap_file.empty() && !write_atomically(bootstrap_file, bootstrap))
    return fail("kafka-dev", "cannot write the bootstrap address to " + bootstrap_file);
  std::cout << "kafka-dev bootstrap " << bootstrap << std::endl;  // flushed: scripts wait for it
  n.log().info("kafka-dev: librdkafka's mock cluster ({} broker(s), in memory, plaintext) at {}", brokers, bootstrap);
  stop_on_signals(n.create_context());
  n.run();                                                           // until SIGINT or SIGTERM
  if (!bootstrap_file.empty()) std::remove(bootstrap_file.c_str());  // it no longer says anything true
  return 0;
}

}  // namespace nodus::cli
