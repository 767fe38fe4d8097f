#pragma once
// librdkafka objects in unique_ptrs, its log lines in spdlog, its errors as stream_errors.

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "nodus/stream_kafka/kafka.hpp"

namespace nodus::stream_kafka::detail {

struct conf_deleter {
  void operator()(rd_kafka_conf_t* c) const noexcept { rd_kafka_conf_destroy(c); }
};
struct queue_deleter {
  void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};
struct topic_deleter {
  void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
};
struct partitions_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept { rd_kafka_topic_partition_list_destroy(l); }
};
struct event_deleter {
  void operator()(rd_kafka_event_t* e) const noexcept { rd_kafka_event_destroy(e); }
};
struct message_deleter {
  void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
};
struct error_deleter {
  void operator()(rd_kafka_error_t* e) const noexcept { rd_kafka_error_destroy(e); }
};
struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* m) const noexcept { rd_kafka_metadata_destroy(m); }
};
struct admin_options_deleter {
  void operator()(rd_kafka_AdminOptions_t* o) const noexcept { rd_kafka_AdminOptions_destroy(o); }
};

using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, topic_deleter>;
using partitions_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partitions_deleter>;
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;
using admin_options_ptr = std::unique_ptr<rd_kafka_AdminOptions_t, admin_options_deleter>;

/// A handle that is flushed (producers) or closed (consumers) before it is destroyed elsewhere;
/// here only destroyed.
struct handle_deleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;

/// What a handle's log callback needs; owned by whoever owns the handle, outlives it.
struct log_target {
  std::shared_ptr<spdlog::logger> log;
  std::string prefix;  // "kafka", "kafka reader", ...
  // While a broker is down librdkafka reports every reconnection attempt: one warning or error
  // per facility every 10 s is enough, the rest goes to debug.
  std::mutex mutex;
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> last_loud;
  // Once librdkafka has said the brokers refused this handle's credentials (or its TLS), its
  // lines about that, and the "brokers are down" that follow, go to debug: the client says it
  // once in its own words (kafka_client::check_cluster, the events thread).
  std::atomic<bool> refused{false};
};

/// Whether librdkafka said every broker is down (and nothing has come from one since); shared by
/// the client's producer side and its reader.
struct broker_state {
  std::atomic<bool> down{false};
  /// Set once the cluster has answered a metadata request.
  std::atomic<bool> answered{false};

  /// Records why the brokers refused the client (SASL authentication, TLS), in librdkafka's words.
  void refuse(std::string why) {
    std::lock_guard lock(mutex_);
    refusal_ = std::move(why);
  }
  /// Why the brokers refused the client; empty if they have not.
  std::string refusal() const {
    std::lock_guard lock(mutex_);
    return refusal_;
  }

private:
  mutable std::mutex mutex_;
  std::string refusal_;
};

/// Whether librdkafka's error is the brokers refusing the client's credentials or its TLS: a
/// mistake in the kafka config, which retrying does not mend.
inline bool is_refusal(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
         err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED;
}

/// Sends librdkafka's log lines to `target->log` (syslog levels: 0-3 error, 4 warning,
/// 5 info, 6-7 debug) and makes `target` the handle's opaque.
void route_logs(rd_kafka_conf_t* conf, log_target* target);

/// Sets `name=value` on `conf`; the failure names the property (and `origin`), never its value.
result_or_failure<> set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
                                 const std::string& origin = {});

/// A configuration for a handle: bootstrap servers, then `defaults`, then the user's properties
/// from `config` (which may override the defaults), then `fixed` (which they may not), with
/// librdkafka's log lines going to `logs`.
result_or_failure<conf_ptr> make_conf(const kafka_config& config,
                                      const std::vector<std::pair<std::string, std::string>>& defaults,
                                      const std::vector<std::pair<std::string, std::string>>& fixed, log_target* logs);

/// `config` without the properties librdkafka only knows for producers (`request.timeout.ms`,
/// `acks`, ...), which a consumer would warn about at every start: the Java clients' files set
/// them for both (the seeds' kafka.config starts with request.timeout.ms).
kafka_config for_consumer(const kafka_config& config);

/// A stream error from a librdkafka error code, with `what` in front of librdkafka's words.
stream_error to_stream_error(rd_kafka_resp_err_t err, const std::string& what);

}  // namespace nodus::stream_kafka::detail
