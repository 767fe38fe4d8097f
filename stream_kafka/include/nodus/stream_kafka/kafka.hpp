#pragma once
/// The Kafka layer under the hub's stream services, on librdkafka: the connection settings
/// (`kafka_config`, from the `kafka.config` properties files the seeds use), librdkafka's mock
/// cluster run in-process (`embedded_kafka`), and the client the services share (`kafka_client`).
///
/// One stream is one topic and only its partition 0 is used. Every operation of `kafka_client`
/// returns at once and completes through a callback on one of the client's own threads, so the
/// node's threads never wait for Kafka.

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/stream/protocol.hpp"

namespace nodus::stream_kafka {

// The services speak the stream protocol (nodus::stream, the client's library); its types are
// used here by their short names.
using stream::index_reply;
using stream::index_request;
using stream::protocol_version;
using stream::reader_activity;
using stream::readers_reply;
using stream::stream_errc;
using stream::stream_error;
using stream::stream_message;
using stream::stream_reply;
using stream::stream_request;

/// One librdkafka property and where it was read, for error messages (`kafka.config:3`).
struct kafka_property {
  std::string name;
  std::string value;
  std::string origin;
};

/// How to reach a Kafka cluster: the bootstrap servers and librdkafka properties, e.g. from a
/// `kafka.config` file (`security.protocol=SASL_SSL`, `sasl.mechanism=PLAIN`, `sasl.username`,
/// `sasl.password` or the Java clients' `sasl.jaas.config`, ...).
struct kafka_config {
  /// `host:port[,host:port...]`; empty when not known yet (the hub then embeds a cluster).
  std::string bootstrap_servers;
  /// Passed to librdkafka in this order, after the services' defaults (so they can override them).
  std::vector<kafka_property> properties;

  /// Reads Java-properties text: `key=value` (or `key: value`) lines, `#` and `!` comments, a
  /// trailing backslash continues a line. `bootstrap.servers` fills `bootstrap_servers`;
  /// `sasl.jaas.config` (PlainLoginModule or ScramLoginModule) becomes `sasl.username` and
  /// `sasl.password`, which librdkafka knows. A PEM truststore (`ssl.truststore.type=PEM`,
  /// `ssl.truststore.location`) becomes `ssl.ca.location`; a JKS or PKCS12 one fails, saying to
  /// give PEM instead. Every property is then checked with librdkafka:
  /// the first unknown or invalid one fails, naming it and its line (values are never shown).
  static result_or_failure<kafka_config> parse(std::string_view text, std::string_view origin = "kafka config");
  /// `parse` of a file's contents; a missing or unreadable file fails with its name.
  static result_or_failure<kafka_config> load(const std::string& path);
};

/// librdkafka's mock cluster, run inside this process: real Kafka protocol on loopback ports,
/// data in memory only. See docs/toolchain.md for its limits (plaintext only, 5 MiB per partition).
class embedded_kafka {
public:
  /// Starts `brokers` brokers on random loopback ports. librdkafka's own log lines go to `log`.
  static result_or_failure<std::shared_ptr<embedded_kafka>> start(std::shared_ptr<spdlog::logger> log, int brokers = 1);
  ~embedded_kafka();
  embedded_kafka(const embedded_kafka&) = delete;
  embedded_kafka& operator=(const embedded_kafka&) = delete;

  /// `127.0.0.1:port[,...]`, for `bootstrap.servers`.
  const std::string& bootstrap() const noexcept;
  /// Creates `topic` with `partitions` partitions; a topic that exists already is fine.
  stream_error create_topic(const std::string& topic, int partitions = 1);
  /// For fault tests: takes a broker down (its connections close, it refuses new ones) or back up.
  void set_broker_down(int broker_id = 1);
  void set_broker_up(int broker_id = 1);

  struct impl;

private:
  explicit embedded_kafka(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// How the stream services use Kafka.
struct kafka_client_options {
  /// Where the cluster is and how to talk to it.
  kafka_config config;
  /// When set, topics are created through the mock cluster's own API (its brokers have no
  /// CreateTopics), with exactly one partition.
  std::shared_ptr<embedded_kafka> embedded;
  /// librdkafka's log lines and the client's own go here.
  std::shared_ptr<spdlog::logger> log;
  /// Bound on metadata requests, topic creation and index reads and writes.
  std::chrono::milliseconds request_timeout{5000};
  /// Bound on a produce: not acknowledged by then, it fails (`message.timeout.ms`). Below the
  /// stream client's reply timeout (5 s), so a client hears kafka_unavailable rather than silence.
  std::chrono::milliseconds produce_timeout{4000};
  /// How long the broker may hold an empty fetch (`fetch.wait.max.ms`); also the longest delay
  /// before a message produced by another program reaches a waiting pull.
  std::chrono::milliseconds fetch_wait{20};
  /// Replication factor of created topics; -1 lets the broker choose.
  int replication_factor = -1;
  /// Fetched messages kept per stream for pulls; above it fetching pauses until pulls catch up.
  std::size_t read_buffer_bytes = 8 * 1024 * 1024;
  /// A stream nobody pulled for this long stops being fetched.
  std::chrono::milliseconds read_idle{60000};
};

/// How a topic `kafka_client::create_stream` makes is set up.
struct topic_settings {
  /// `cleanup.policy=compact`: Kafka keeps the latest record of each key for good (the stream
  /// owners' topic). On a cluster that cannot be told (librdkafka's mock), it is left out.
  bool compacted = false;
};

/// The Kafka client of the stream services: one producer (acks=all), one consumer that tails the
/// streams being pulled, and the admin calls for topics and consumer-group offsets. Thread-safe.
///
/// Callbacks run on one of the client's threads (or at once, in the caller's thread, when the
/// answer is known without Kafka) and must not block. Operations on a stream that does not exist
/// fail with `unknown_stream`: the client never lets librdkafka create a topic as a side effect
/// (a broker with automatic creation would make it with its default partition count).
class kafka_client {
public:
  /// Creates the librdkafka handles; fails on an unknown or invalid property or handle error.
  static result_or_failure<std::shared_ptr<kafka_client>> create(kafka_client_options options);
  /// Fails what is still pending (callbacks run with `internal`: stopping) and joins the threads.
  ~kafka_client();
  kafka_client(const kafka_client&) = delete;
  kafka_client& operator=(const kafka_client&) = delete;

  /// Creates the topic `stream` with one partition if it does not exist.
  void create_stream(std::string stream, std::function<void(stream_error)> done, topic_settings settings = {});
  /// Produces `data` to partition 0 of `stream`, with `key` when it is not empty; `done` gets the
  /// offset once the broker has acknowledged it (acks=all), or an error after at most
  /// `produce_timeout`.
  void produce(std::string stream, bytes data, std::function<void(std::int64_t, stream_error)> done,
               std::string key = {});
  /// The offset the next message of partition 0 of `stream` will get (its high watermark).
  void end_offset(std::string stream, std::function<void(std::int64_t, stream_error)> done);
  /// Up to `limit` messages (and about `max_bytes`) of `stream` from offset `index` on; when
  /// there are none yet, waits up to `wait` for the first one, then answers (possibly empty).
  void fetch(std::string stream, std::int64_t index, std::uint32_t limit, std::size_t max_bytes,
             std::chrono::milliseconds wait, std::function<void(std::vector<stream_message>, stream_error)> done);
  /// What this client knows of the pulls of `stream`: how many `fetch`es wait now, how long ago
  /// the last one came, the highest index one asked for. Answered at once, from memory; a stream
  /// nobody fetched for `read_idle` (or ever) has no readers.
  reader_activity readers(const std::string& stream) const;
  /// Commits `index` as the offset of consumer group `group` on partition 0 of `stream`.
  void save_offset(std::string group, std::string stream, std::int64_t index, std::function<void(stream_error)> done);
  /// The committed offset of `group` on partition 0 of `stream`; -1 when it has none.
  void load_offset(std::string group, std::string stream, std::function<void(std::int64_t, stream_error)> done);
  /// Asks the cluster for its metadata; `done` gets a description (`1 broker(s), cluster id ...`)
  /// or why it cannot be reached within `request_timeout` (`host_unreachable`), or, as soon as
  /// they say so, that the brokers refused the credentials or the TLS (`permission_denied`: one
  /// line naming the cluster, the user and the broker's reason; librdkafka's own lines about it
  /// are logged at debug level).
  void check_cluster(std::function<void(result_or_failure<std::string>)> done);

  /// The bootstrap servers it connects to.
  const std::string& bootstrap() const noexcept;

  struct impl;

private:
  explicit kafka_client(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

/// True for a valid stream or client name: 1 to 200 of [A-Za-z0-9._-], not `.` or `..` and not
/// starting with `__` (Kafka's internal topics).
bool valid_stream_name(std::string_view name) noexcept;

}  // namespace nodus::stream_kafka
