#pragma once
// The inside of kafka_client, shared by kafka_client.cpp (threads, produce, the public face),
// kafka_topics.cpp (which streams exist, creating them) and kafka_offsets.cpp (indexes).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "kafka_handles.hpp"
#include "kafka_reader.hpp"

namespace nodus::stream_kafka {
namespace detail {

using error_callback = std::function<void(stream_error)>;

inline stream_error stopping_error() { return {stream_errc::internal, "the hub's Kafka client is stopping"}; }

/// Calls a completion; an exception from it is logged and never ends a Kafka thread.
template <class F, class... A>
void guarded(spdlog::logger* log, F& f, A&&... args) {
  try {
    f(std::forward<A>(args)...);
  } catch (const std::exception& e) {
    if (log) log->error("kafka: a completion threw: {}", e.what());
  }
}

/// What the events thread completes when a delivery report or an admin result arrives.
struct produce_pending {
  std::function<void(std::int64_t, stream_error)> done;
};
struct admin_pending {
  std::function<void(rd_kafka_event_t*)> complete;
};

}  // namespace detail

struct kafka_client::impl {
  kafka_client_options options;
  detail::log_target logs;
  detail::handle_ptr producer;
  detail::queue_ptr events;
  std::unique_ptr<detail::stream_reader> reader;
  std::atomic<bool> stop_events{false};
  std::thread events_thread;

  std::mutex topics_mutex;
  std::unordered_set<std::string> known;  // streams known to exist
  std::unordered_map<std::string, detail::topic_ptr> topics;

  std::mutex jobs_mutex;
  std::condition_variable jobs_cv;
  std::deque<std::function<void()>> jobs;
  bool stopping = false;
  std::unordered_map<std::string, std::vector<detail::error_callback>> waiting;  // for the next metadata refresh
  bool refresh_queued = false;
  std::thread metadata_thread;
  int mock = -1;  // metadata thread only: whether the brokers are librdkafka's mock cluster (-1: not known yet)

  // Offsets saved in order per group and stream: one commit in flight, the latest waiting.
  struct save_queue {
    bool in_flight = false;
    std::vector<std::pair<std::int64_t, detail::error_callback>> waiting;
  };
  std::mutex saves_mutex;
  std::map<std::pair<std::string, std::string>, save_queue> saves;

  spdlog::logger* log() const { return logs.log.get(); }
  int timeout_ms() const { return static_cast<int>(options.request_timeout.count()); }
  // While librdkafka says every broker is down, a metadata request waits at most a second: a
  // client then hears kafka_unavailable at once rather than after the full timeout.
  std::shared_ptr<detail::broker_state> brokers = std::make_shared<detail::broker_state>();
  int metadata_timeout_ms() const { return brokers->down ? std::min(timeout_ms(), 1000) : timeout_ms(); }
  void metadata_answered(rd_kafka_resp_err_t err) {
    if (!err) brokers->down = false;
    if (!err) brokers->answered = true;
  }
  /// The brokers refused the credentials or the TLS (an error event): recorded for
  /// check_cluster, and logged once if it happens after the cluster had answered.
  void refused(std::string why);
  /// One line for the user: which cluster refused which user, why, and what to check.
  std::string refusal_message(const std::string& why) const;

  // Threads.
  void run_events();
  void run_metadata();
  /// Queues `job` for the metadata thread; false (and `job` untouched) once stopping.
  bool post(std::function<void()>& job);
  void shutdown();

  // Topics.
  void with_stream(const std::string& stream, detail::error_callback then);
  void refresh();
  result_or_failure<std::unordered_map<std::string, int>> list_topics();
  void create(const std::string& stream, const detail::error_callback& done, topic_settings settings);
  stream_error create_topic(const std::string& stream, topic_settings settings);
  stream_error auto_create(const std::string& stream);
  rd_kafka_topic_t* topic(const std::string& stream);

  // Produce and offsets.
  void produce_known(const std::string& stream, const bytes& data, const std::string& key,
                     std::function<void(std::int64_t, stream_error)> done);
  void start_save(const std::pair<std::string, std::string>& key);
  detail::admin_options_ptr admin_options(rd_kafka_admin_op_t op, detail::admin_pending* pending);
};

}  // namespace nodus::stream_kafka
