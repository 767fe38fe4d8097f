#pragma once
// The `nodus` program's subcommands and what they share: argument parsing with one-line errors.

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "nodus/core/failure.hpp"

namespace nodus::cli {

/// Exit codes: 0 success, 1 the command failed, 2 the command line was wrong.
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

/// Prints `nodus <command>: <message>` on stderr and returns `code`.
int fail(const std::string& command, const std::string& message, int code = exit_failure);

/// Parses `args` against `options` (and `positional`, and `hidden`: accepted, never shown in
/// --help, e.g. test hooks). Prints help and returns 0 for --help, or prints one line and
/// returns `exit_usage` on a mistake; nothing (carry on) otherwise.
std::optional<int> parse(const std::string& command, const std::string& synopsis, const std::vector<std::string>& args,
                         const boost::program_options::options_description& options,
                         const boost::program_options::positional_options_description& positional,
                         boost::program_options::variables_map& values,
                         const boost::program_options::options_description* hidden = nullptr);

/// `HOST:PORT[,HOST:PORT...]` as a list (empty text: none); an error that names the bad entry.
result_or_failure<std::vector<std::string>> parse_host_ports(const std::string& text);

int hub(const std::vector<std::string>& args);
int node_command(const std::vector<std::string>& args);
int tcp_listener(const std::vector<std::string>& args);
int tcp_connection(const std::vector<std::string>& args);
int relay(const std::vector<std::string>& args);
int secure_channel_listener(const std::vector<std::string>& args);
int secure_channel(const std::vector<std::string>& args);
int tcp_outlet(const std::vector<std::string>& args);
int tcp_inlet(const std::vector<std::string>& args);
int kafka_outlet(const std::vector<std::string>& args);
int kafka_inlet(const std::vector<std::string>& args);
int kafka_consumer(const std::vector<std::string>& args);
int kafka_producer(const std::vector<std::string>& args);
/// `kafka-custodian`: the keys of encrypted Kafka records (cli/kafka_custodian_commands.cpp).
int kafka_custodian(const std::vector<std::string>& args);
/// `transit`: encryption as a service, Vault transit compatible (cli/transit_commands.cpp).
int transit(const std::vector<std::string>& args);
int status(const std::vector<std::string>& args);
int worker(const std::vector<std::string>& args);
/// `message send --from NODE`: the node sends and waits for the reply.
int message_send_from_node(const std::string& node, const std::string& to, const std::string& text,
                           double timeout_seconds);
int message_send(const std::vector<std::string>& args);
int identity(const std::vector<std::string>& args);
/// `project create|show|ticket|enroll|member`: enrollment (cli/project_command.cpp).
int project(const std::vector<std::string>& args);
int kafka_dev(const std::vector<std::string>& args);
/// `kafka decode`: one Kafka frame as JSON (cli/kafka_decode_command.cpp).
int kafka(const std::vector<std::string>& args);

}  // namespace nodus::cli
