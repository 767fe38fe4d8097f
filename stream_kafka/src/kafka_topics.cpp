// Which streams exist and creating them. A stream is a topic; only topics known to exist are
// ever named to the brokers, since naming one can make a broker create it.

#include <fmt/format.h>

#include "kafka_client_impl.hpp"

namespace nodus::stream_kafka {

using detail::error_callback;
using detail::guarded;
using detail::stopping_error;

void kafka_client::impl::with_stream(const std::string& stream, error_callback then) {
  bool exists = false;
  {
    std::lock_guard lock(topics_mutex);
    exists = known.contains(stream);
  }
  if (exists) return guarded(log(), then, stream_error{});
  bool queued = false;
  {
    std::lock_guard lock(jobs_mutex);
    if (!stopping) {
      waiting[stream].push_back(std::move(then));
      if (!std::exchange(refresh_queued, true)) jobs.push_back([this] { refresh(); });
      queued = true;
    }
  }
  if (queued)
    jobs_cv.notify_one();
  else
    guarded(log(), then, stopping_error());
}

// One metadata request answers every stream waiting to be found.
void kafka_client::impl::refresh() {
  std::unordered_map<std::string, std::vector<error_callback>> batch;
  {
    std::lock_guard lock(jobs_mutex);
    refresh_queued = false;
    batch.swap(waiting);
  }
  auto listed = list_topics();
  for (auto& [stream, callbacks] : batch) {
    stream_error error;
    if (!listed)
      error = {stream_errc::kafka_unavailable, listed.error().reason};
    else if (!listed.value().contains(stream))
      error = {stream_errc::unknown_stream, fmt::format("there is no stream '{}' (create it first)", stream)};
    for (auto& done : callbacks) guarded(log(), done, error);
  }
}

// Every topic of the cluster and its partition count. Asking for all topics (not named ones)
// never makes a broker create one.
result_or_failure<std::unordered_map<std::string, int>> kafka_client::impl::list_topics() {
  const rd_kafka_metadata_t* raw = nullptr;
  const int timeout = metadata_timeout_ms();
  const auto err = rd_kafka_metadata(producer.get(), 1, nullptr, &raw, timeout);
  metadata_answered(err);
  detail::metadata_ptr metadata(raw);
  if (err)
    return fail(std::make_error_code(std::errc::host_unreachable),
                fmt::format("kafka at {}: no metadata within {} ms: {}", options.config.bootstrap_servers, timeout,
                            rd_kafka_err2str(err)));
  std::unordered_map<std::string, int> found;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) found.emplace(t.topic, t.partition_cnt);
  }
  std::lock_guard lock(topics_mutex);
  for (const auto& [name, partitions] : found) known.insert(name);
  return found;
}

void kafka_client::impl::create(const std::string& stream, const error_callback& done, topic_settings settings) {
  auto listed = list_topics();
  if (!listed) return done({stream_errc::kafka_unavailable, listed.error().reason});
  if (auto it = listed.value().find(stream); it != listed.value().end()) {
    if (it->second != 1 && log())
      log()->info("kafka: stream '{}' is a topic with {} partitions; only partition 0 is used", stream, it->second);
    return done({});
  }
  auto error = create_topic(stream, settings);
  if (!error) {
    std::lock_guard lock(topics_mutex);
    known.insert(stream);
  }
  done(std::move(error));
}

stream_error kafka_client::impl::create_topic(const std::string& stream, topic_settings settings) {
  if (options.embedded) {
    auto error = options.embedded->create_topic(stream, 1);
    if (!error && log()) log()->info("kafka: stream '{}' created (embedded, 1 partition)", stream);
    return error;
  }
  if (mock < 0) {
    // librdkafka's mock cluster (`nodus kafka-dev`) has no CreateTopics: a request would wait
    // for a controller that never answers. Its cluster id gives it away.
    char* raw = rd_kafka_clusterid(producer.get(), metadata_timeout_ms());
    const std::string cluster_id = raw ? raw : "";
    if (raw) rd_kafka_mem_free(producer.get(), raw);
    if (cluster_id.empty()) return {stream_errc::kafka_unavailable, "kafka: the cluster did not say its id in time"};
    mock = cluster_id.starts_with("mockCluster") ? 1 : 0;
  }
  if (mock == 1) return auto_create(stream);

  std::unique_ptr<rd_kafka_NewTopic_t, decltype(&rd_kafka_NewTopic_destroy)> topic_spec(
      rd_kafka_NewTopic_new(stream.c_str(), 1, options.replication_factor, nullptr, 0), &rd_kafka_NewTopic_destroy);
  if (settings.compacted) rd_kafka_NewTopic_set_config(topic_spec.get(), "cleanup.policy", "compact");
  detail::queue_ptr results(rd_kafka_queue_new(producer.get()));
  auto admin = admin_options(RD_KAFKA_ADMIN_OP_CREATETOPICS, nullptr);
  rd_kafka_NewTopic_t* specs[] = {topic_spec.get()};
  rd_kafka_CreateTopics(producer.get(), specs, 1, admin.get(), results.get());
  detail::event_ptr ev(rd_kafka_queue_poll(results.get(), timeout_ms() + 1000));
  if (!ev) return {stream_errc::kafka_unavailable, fmt::format("kafka: creating topic '{}' timed out", stream)};
  auto err = rd_kafka_event_error(ev.get());
  std::string reason = rd_kafka_event_error_string(ev.get()) ? rd_kafka_event_error_string(ev.get()) : "";
  if (!err) {
    std::size_t count = 0;
    const auto* const* topics_out =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &count);
    if (count == 1) {
      err = rd_kafka_topic_result_error(topics_out[0]);
      if (rd_kafka_topic_result_error_string(topics_out[0])) reason = rd_kafka_topic_result_error_string(topics_out[0]);
    }
  }
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) return auto_create(stream);
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    return detail::to_stream_error(err, fmt::format("cannot create topic '{}' ({})", stream, reason));
  if (log()) log()->info("kafka: stream '{}' created (1 partition)", stream);
  return {};
}

// A metadata request naming the topic makes a broker with automatic creation create it, with its
// default partition count (4 on librdkafka's mock cluster); partition 0 is the stream.
stream_error kafka_client::impl::auto_create(const std::string& stream) {
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(producer.get(), 0, topic(stream), &raw, metadata_timeout_ms());
  metadata_answered(err);
  detail::metadata_ptr metadata(raw);
  if (err) return detail::to_stream_error(err, fmt::format("cannot create topic '{}'", stream));
  if (metadata->topic_cnt != 1 || metadata->topics[0].err)
    return detail::to_stream_error(
        metadata->topic_cnt == 1 ? metadata->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
        fmt::format("the broker did not create topic '{}'", stream));
  if (log())
    log()->info(
        "kafka: stream '{}' created by the broker's automatic topic creation ({} partitions; partition 0 is "
        "used): it has no CreateTopics",
        stream, metadata->topics[0].partition_cnt);
  return {};
}

rd_kafka_topic_t* kafka_client::impl::topic(const std::string& stream) {
  std::lock_guard lock(topics_mutex);
  auto& handle = topics[stream];
  if (!handle) handle.reset(rd_kafka_topic_new(producer.get(), stream.c_str(), nullptr));
  return handle.get();
}

}  // namespace nodus::stream_kafka
