#pragma once
/// Kafka portals (Ockam's kafka-inlet and kafka-outlet): Kafka clients connect to a local inlet
/// as if it were the cluster; their traffic crosses any route (a secure channel, through a relay)
/// to an outlet on a node that reaches the brokers. Kafka frames pass through unchanged, except
/// where a broker tells a client where brokers are, so that clients only ever connect to the
/// inlet, and ApiVersions, so that clients only use versions the portal understands; and, with
/// `inlet_options::protection`, the record values of Produce requests (sealed) and Fetch answers
/// (opened) at the inlet (docs/kafka-encryption.md).
///
///   // On the node that reaches the brokers (a hub); a secure channel listener exposes "kafka".
///   kafka_portal::outlet_options oo{.bootstrap_server = "127.0.0.1:9092"};
///   co_await kafka_portal::create_kafka_outlet(ctx, "kafka", oo);
///
///   // On the client's node: the cluster at 127.0.0.1:4000, broker N at a port of 4001-4100.
///   kafka_portal::inlet_options io{.bind = "127.0.0.1:4000", .to = route{channel.address(), "kafka"}};
///   co_await kafka_portal::create_kafka_inlet(ctx, "kafka-inlet", io);
///
/// The outlet dials only the bootstrap server and the brokers the brokers themselves name in
/// their answers (each at a portal outlet of its own, `<outlet>.broker.<id>`, exposed to the
/// flows the outlet is exposed to); nothing an inlet says chooses where it dials. Each broker a
/// client learns of gets one local port at the inlet, kept for the inlet's life.
///
/// Rewritten: the broker addresses in Metadata, FindCoordinator (v0-3 and v4+), DescribeCluster,
/// and the NodeEndpoints of Produce (v10+) and Fetch (v16+) responses; ApiVersions answers are
/// cut to what both the broker and this portal speak (nodus/kafka/api.hpp), and an ApiVersions
/// request newer than the portal knows is answered by the inlet, as a broker answers one
/// (UNSUPPORTED_VERSION with its range). SASL_PLAINTEXT passes through (SaslHandshake v1 and
/// SaslAuthenticate are ordinary frames; the portal never logs their bodies); the portal does
/// not speak TLS to clients or brokers. docs/kafka-portal.md has the details.

#include <cstdint>
#include <string>

#include "nodus/core/failure.hpp"
#include "nodus/core/route.hpp"
#include "nodus/kafka_crypto/protection.hpp"
#include "nodus/node/context.hpp"
#include "nodus/node/task.hpp"
#include "nodus/portal/portal.hpp"

namespace nodus::kafka_portal {

/// The largest frame a portal reads whole (the ones it may rewrite: Metadata and the like, and
/// Produce and Fetch responses of the versions with NodeEndpoints); every other frame passes
/// through as it arrives, whatever its size.
inline constexpr std::size_t default_max_held_frame = 100 * 1024 * 1024;

struct outlet_options {
  /// The `host:port` of a broker to bootstrap from (required).
  std::string bootstrap_server;
  /// Brokers the outlet will open an outlet for; more are refused (the client's connection that
  /// learned of them is closed, with a log line).
  std::size_t max_brokers = 64;
  std::size_t max_held_frame = default_max_held_frame;
  /// Settings of every portal outlet it makes (`target` and `filter` are its own).
  portal::outlet_options portal;
};

struct inlet_options {
  /// Where clients bootstrap from.
  std::string bind = "127.0.0.1:4000";
  /// The ports brokers get, in the order clients learn of them; 0 and 0: the 100 ports after
  /// `bind`'s (4001-4100 for the default).
  std::uint16_t first_broker_port = 0, last_broker_port = 0;
  /// The route to the outlet, whose last hop is the outlet's address (`route{channel, "kafka"}`),
  /// or a resolver that gives one for each new connection (as `portal::inlet_options`).
  route to;
  std::function<task<result_or_failure<route>>(context&)> resolve;
  std::size_t max_held_frame = default_max_held_frame;
  /// When set, every frame the inlet's clients send and receive is recorded in this file, in the
  /// format of the Kafka golden frames (`items` with `kind`, `api`, `api_version`, `frame_hex`;
  /// what `NODUS_KAFKA_FRAMES` names for the Kafka golden test). Frames are then read whole.
  std::string capture_path;
  /// End-to-end encryption of record values (off unless `protection.keys` is set).
  kafka_crypto::protection_options protection;
  /// Settings of every portal inlet it makes (`bind`, `to`, `resolve` and `filter` are its own).
  portal::inlet_options portal;
};

/// One broker the inlet serves: its node id, where the cluster has it, and its local port.
struct broker_port {
  std::int32_t node_id = 0;
  std::string broker;  ///< `host:port` as the cluster advertises it
  std::string local;   ///< `host:port` clients are told
};

/// A running Kafka inlet. Copies share it; it does not keep the node alive.
class kafka_inlet {
public:
  const nodus::address& address() const noexcept { return at_; }
  /// Where clients bootstrap from, with the port it was given when `bind` asked for port 0.
  const std::string& bound() const noexcept { return bound_; }

private:
  friend task<result_or_failure<kafka_inlet>> create_kafka_inlet(context&, nodus::address, inlet_options);
  kafka_inlet(nodus::address at, std::string bound) : at_(std::move(at)), bound_(std::move(bound)) {}
  nodus::address at_;
  std::string bound_;
};

/// What an inlet's record protection has done since it started.
struct record_protection_stats {
  std::uint64_t sealed = 0;             ///< values sealed
  std::uint64_t produce_refused = 0;    ///< partitions of Produce requests refused for want of a key
  std::uint64_t opened = 0;             ///< values opened
  std::uint64_t plaintext = 0;          ///< plain values passed in a plaintext topic
  std::uint64_t undecryptable = 0;      ///< records that could not be opened (or were plain where they must not be)
  std::uint64_t skipped = 0;            ///< of those, dropped
  std::uint64_t tagged = 0;             ///< of those, delivered tagged
  std::uint64_t failed_partitions = 0;  ///< partitions answered with an error
  std::uint64_t gaps = 0;               ///< gaps in a producer's sequence
  std::uint64_t missing = 0;            ///< records those gaps skipped
  std::uint64_t replays = 0;            ///< replayed or reordered records, dropped
};

/// The record protection counts of the inlet at `at` (zeros when it has none).
record_protection_stats inlet_protection_stats(const context& ctx, const nodus::address& at);

/// Starts an outlet at `at` (a portal outlet to the bootstrap server, with the Kafka filter).
/// Fails as `portal::create_tcp_outlet` does.
task<result_or_failure<portal::tcp_outlet>> create_kafka_outlet(context& ctx, nodus::address at, outlet_options o);

/// Starts an inlet whose bootstrap listener's worker is at `at` (broker listeners at
/// `<at>.broker.<id>`). Fails as `portal::create_tcp_inlet` does, and with
/// `std::errc::invalid_argument` for a port range that is empty or does not fit.
task<result_or_failure<kafka_inlet>> create_kafka_inlet(context& ctx, nodus::address at, inlet_options o);

/// The brokers an inlet serves now, by node id.
std::vector<broker_port> inlet_brokers(const context& ctx, const nodus::address& at);

/// The portal outlets an outlet has opened for brokers so far (`<at>.broker.<id>`), e.g. to
/// expose them to a secure channel listener made after them.
std::vector<nodus::address> outlet_brokers(const context& ctx, const nodus::address& at);

/// Stops an inlet and every broker listener it opened; `errc::unknown_address` when there is
/// no Kafka inlet at `at`.
task<result<>> stop_kafka_inlet(context& ctx, const nodus::address& at);
/// Stops an outlet and every broker outlet it opened.
task<result<>> stop_kafka_outlet(context& ctx, const nodus::address& at);

}  // namespace nodus::kafka_portal
