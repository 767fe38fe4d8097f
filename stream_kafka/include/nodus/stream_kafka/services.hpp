#pragma once
/// The hub's stream services: `stream_kafka` (create, push, pull) and `stream_kafka_index` (a
/// client's saved index per stream), speaking the protocol of `protocol.hpp` over any route and
/// keeping everything in Kafka through a shared `kafka_client`.
///
/// Both answer every request on its return route, errors included (a request that does not
/// decode gets `bad_request`), and never wait for Kafka inside `handle_message`: the reply is
/// sent when Kafka answers, so a long-polling pull does not hold up pushes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "nodus/node/context.hpp"
#include "nodus/node/worker.hpp"
#include "nodus/policy/policy.hpp"
#include "nodus/stream/protocol.hpp"
#include "nodus/stream_kafka/kafka.hpp"
#include "nodus/stream_kafka/owners.hpp"

namespace nodus::stream_kafka {

/// Where the hub starts the services.
inline constexpr std::string_view stream_service_address = "stream_kafka";
inline constexpr std::string_view index_service_address = "stream_kafka_index";
/// A client's index on a stream is the committed offset of this consumer group plus its id (on
/// a members-only hub: plus the caller's identifier, a '.' and its id).
inline constexpr std::string_view index_group_prefix = "nodus-index-";

/// How `stream_kafka` serves.
struct stream_service_options {
  /// The Kafka client it shares with the index service.
  std::shared_ptr<kafka_client> kafka;
  /// The longest a pull may wait for a first message (longer `wait_ms` are cut to this).
  std::chrono::milliseconds max_pull_wait{5000};
  /// Larger pushes are refused with `too_large` (Kafka's default message limit is about 1 MB).
  std::size_t max_message_size = 900 * 1024;
  /// A push_batch's messages together may be this large at most (each also `max_message_size`).
  std::size_t max_batch_size = 4 * 1024 * 1024;
  /// A pull's reply carries about this many bytes of messages at most (at least one message).
  std::size_t max_pull_bytes = 4 * 1024 * 1024;
  /// Test hook (`nodus hub --test-drop-push N`): the Nth push the service receives (counted from
  /// 1 over all streams) is confirmed but never written, as if deleted in transit. 0: never.
  std::uint64_t test_drop_push = 0;
  /// Members-only mode (docs/hub.md): requests only through secure channels from subjects
  /// `members->allow` admits; a stream is its creator's and its parties'. Unset: anyone who
  /// reaches the service may use any stream (as before).
  std::optional<stream_membership> members;
};

/// "stream_kafka": creates streams (topics with one partition), pushes to them (the reply
/// carries the offset once the broker has acknowledged it), answers pulls (long polling), and
/// says who pulls a stream (`readers`: what this hub's reader remembers, at once).
class stream_kafka_service final : public raw_worker {
public:
  explicit stream_kafka_service(stream_service_options options);
  task<result<>> initialize(context& ctx) override;
  task<result<>> handle_message(context& ctx, local_message message) override;
  task<> shutdown(context& ctx) override;

  struct replier;  // sends replies from Kafka's threads, until shutdown

private:
  void handle(context& ctx, stream_request request, route reply_to, const policy::subject& who);
  /// Members-only mode: why the request of `who` is refused, or none.
  std::optional<stream_error> refusal(const stream_request& request, const policy::subject& who);
  void create(stream_request request, stream_reply reply, route reply_to, const std::string& who);
  void push(context& ctx, stream_request request, stream_reply reply, route reply_to);
  void push_batch(context& ctx, stream_request request, stream_reply reply, route reply_to);
  /// Why a push_batch is refused before any of it is written, if it is.
  std::optional<stream_error> bad_batch(const stream_request& request) const;

  stream_service_options options_;
  std::shared_ptr<replier> replier_;
  std::uint64_t pushes_ = 0;
};

/// How `stream_kafka_index` serves.
struct index_service_options {
  /// The Kafka client it shares with the stream service.
  std::shared_ptr<kafka_client> kafka;
  /// Members-only mode, the same as the stream service's: only the identities a stream is for
  /// may get or save an index on it, and each one's indexes are its own.
  std::optional<stream_membership> members;
};

/// "stream_kafka_index": gets and saves a client's index on a stream. The index is the
/// committed offset of consumer group `nodus-index-<client_id>` (members-only:
/// `nodus-index-<identifier>.<client_id>`, so that no identity can read or move another's) on
/// partition 0 of the stream's topic, so it lives in Kafka (it survives the hub) and Kafka's
/// tools show it.
class stream_kafka_index_service final : public raw_worker {
public:
  explicit stream_kafka_index_service(index_service_options options);
  task<result<>> initialize(context& ctx) override;
  task<result<>> handle_message(context& ctx, local_message message) override;
  task<> shutdown(context& ctx) override;

private:
  void handle(index_request request, route reply_to, const policy::subject& who);

  index_service_options options_;
  std::shared_ptr<stream_kafka_service::replier> replier_;
};

}  // namespace nodus::stream_kafka
