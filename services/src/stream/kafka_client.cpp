// The stream services' Kafka client. Three threads of its own, none of the node's:
//  - events: the producer's queue (delivery reports, admin results for consumer-group offsets);
//  - metadata: blocking calls, one at a time (which topics exist, creating topics);
//  - the reader's (kafka_reader.cpp): the consumer that answers pulls.

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "kafka_handles.hpp"
#include "kafka_reader.hpp"

namespace nodus::stream {
namespace {

using error_callback = std::function<void(stream_error)>;

stream_error stopping_error() {
  return {stream_errc::internal, "the hub's Kafka client is stopping"};
}

template <class F, class... A>
void guarded(spdlog::logger* log, F& f, A&&... args) {
  try {
    f(std::forward<A>(args)...);
  } catch (const std::exception& e) {
    if (log) log->error("kafka: a completion threw: {}", e.what());
  }
}

// What the events thread completes when a delivery report or an admin result arrives.
struct produce_pending {
  std::function<void(std::int64_t, stream_error)> done;
};
struct admin_pending {
  std::function<void(rd_kafka_event_t*)> complete;
};

// The error of an admin result for one group and partition 0 of one topic, and its offset.
std::pair<std::int64_t, stream_error> group_offset(const rd_kafka_group_result_t* const* groups, std::size_t count,
                                                   const std::string& what) {
  if (count != 1) return {-1, {stream_errc::internal, what + ": no result for the group"}};
  if (const auto* error = rd_kafka_group_result_error(groups[0]))
    return {-1, detail::to_stream_error(rd_kafka_error_code(error), what)};
  const auto* partitions = rd_kafka_group_result_partitions(groups[0]);
  if (!partitions || partitions->cnt != 1) return {-1, {stream_errc::internal, what + ": no result for the partition"}};
  const auto& p = partitions->elems[0];
  if (p.err) return {-1, detail::to_stream_error(p.err, what)};
  return {p.offset, {}};
}

}  // namespace

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
  std::unordered_map<std::string, std::vector<error_callback>> waiting;  // for the next metadata refresh
  bool refresh_queued = false;
  std::thread metadata_thread;
  int mock = -1;  // metadata thread only: whether the brokers are librdkafka's mock cluster (-1: not known yet)

  // Offsets saved in order per group and stream: one commit in flight, the latest waiting.
  struct save_queue {
    bool in_flight = false;
    std::vector<std::pair<std::int64_t, error_callback>> waiting;
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
  }

  // Threads.
  void run_events();
  void run_metadata();
  /// Queues `job` for the metadata thread; false (and `job` untouched) once stopping.
  bool post(std::function<void()>& job);
  void shutdown();

  // Topics.
  void with_stream(const std::string& stream, error_callback then);
  void refresh();
  result_or_failure<std::unordered_map<std::string, int>> list_topics();
  void create(const std::string& stream, const error_callback& done);
  stream_error create_topic(const std::string& stream);
  stream_error auto_create(const std::string& stream);
  rd_kafka_topic_t* topic(const std::string& stream);

  // Produce and offsets.
  void produce_known(const std::string& stream, const bytes& data,
                     std::function<void(std::int64_t, stream_error)> done);
  void start_save(const std::pair<std::string, std::string>& key);
  detail::admin_options_ptr admin_options(rd_kafka_admin_op_t op, admin_pending* pending);
};

// --- threads -----------------------------------------------------------------------------------

void kafka_client::impl::run_events() {
  while (true) {
    detail::event_ptr ev(rd_kafka_queue_poll(events.get(), 100));
    if (!ev) {
      if (stop_events) return;
      continue;
    }
    switch (rd_kafka_event_type(ev.get())) {
      case RD_KAFKA_EVENT_DR:
        while (const auto* m = rd_kafka_event_message_next(ev.get())) {
          std::unique_ptr<produce_pending> pending(static_cast<produce_pending*>(m->_private));
          const std::string name = rd_kafka_topic_name(m->rkt);
          if (!m->err) brokers->down = false;
          if (!m->err && reader) reader->offer(name, m->offset, m->payload, m->len);
          auto error = detail::to_stream_error(m->err, fmt::format("push to '{}' not acknowledged", name));
          if (pending) guarded(log(), pending->done, m->err ? -1 : m->offset, std::move(error));
        }
        break;
      case RD_KAFKA_EVENT_ERROR:
        if (rd_kafka_event_error(ev.get()) == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) brokers->down = true;
        // librdkafka's own log lines already said it; only a fatal error is news.
        if (log())
          log()->log(rd_kafka_event_error_is_fatal(ev.get()) ? spdlog::level::err : spdlog::level::debug, "kafka: {}",
                     rd_kafka_event_error_string(ev.get()));
        break;
      default:
        if (auto* pending = static_cast<admin_pending*>(rd_kafka_event_opaque(ev.get()))) {
          std::unique_ptr<admin_pending> owned(pending);
          guarded(log(), owned->complete, ev.get());
        }
        break;
    }
  }
}

bool kafka_client::impl::post(std::function<void()>& job) {
  {
    std::lock_guard lock(jobs_mutex);
    if (stopping) return false;
    jobs.push_back(std::move(job));
  }
  jobs_cv.notify_one();
  return true;
}

void kafka_client::impl::run_metadata() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobs_mutex);
      jobs_cv.wait_for(lock, std::chrono::seconds(2), [&] { return stopping || !jobs.empty(); });
      if (stopping) return;
      if (!jobs.empty()) {
        job = std::move(jobs.front());
        jobs.pop_front();
      }
    }
    if (job) {
      guarded(log(), job);
    } else if (brokers->down) {
      // Nothing else says when a broker is back: ask (brokers only, at most 1 s).
      const rd_kafka_metadata_t* raw = nullptr;
      metadata_answered(rd_kafka_metadata(producer.get(), 0, nullptr, &raw, metadata_timeout_ms()));
      detail::metadata_ptr release(raw);
    }
  }
}

void kafka_client::impl::shutdown() {
  std::unordered_map<std::string, std::vector<error_callback>> unanswered;
  {
    std::lock_guard lock(jobs_mutex);
    stopping = true;
    unanswered.swap(waiting);
    jobs.clear();
  }
  jobs_cv.notify_all();
  if (metadata_thread.joinable()) metadata_thread.join();
  for (auto& [stream, callbacks] : unanswered)
    for (auto& done : callbacks) guarded(log(), done, stopping_error());
  if (reader) reader->stop();
  if (producer) {
    // Pushes in flight get their confirmation if it comes soon; the rest fail (clients retry).
    rd_kafka_flush(producer.get(), 2000);
    rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer.get(), 500);
  }
  stop_events = true;
  if (events) rd_kafka_queue_yield(events.get());
  if (events_thread.joinable()) events_thread.join();
  events.reset();
  {
    std::lock_guard lock(topics_mutex);
    topics.clear();
  }
  producer.reset();
  reader.reset();
}

// --- topics ------------------------------------------------------------------------------------

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

void kafka_client::impl::create(const std::string& stream, const error_callback& done) {
  auto listed = list_topics();
  if (!listed) return done({stream_errc::kafka_unavailable, listed.error().reason});
  if (auto it = listed.value().find(stream); it != listed.value().end()) {
    if (it->second != 1 && log())
      log()->info("kafka: stream '{}' is a topic with {} partitions; only partition 0 is used", stream, it->second);
    return done({});
  }
  auto error = create_topic(stream);
  if (!error) {
    std::lock_guard lock(topics_mutex);
    known.insert(stream);
  }
  done(std::move(error));
}

stream_error kafka_client::impl::create_topic(const std::string& stream) {
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

// --- produce and offsets -----------------------------------------------------------------------

void kafka_client::impl::produce_known(const std::string& stream, const bytes& data,
                                       std::function<void(std::int64_t, stream_error)> done) {
  auto pending = std::make_unique<produce_pending>(produce_pending{std::move(done)});
  const auto err =
      rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(topic(stream)), RD_KAFKA_V_PARTITION(0),
                        RD_KAFKA_V_VALUE(const_cast<std::uint8_t*>(data.data()), data.size()),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(pending.get()), RD_KAFKA_V_END);
  if (err)
    return guarded(log(), pending->done, -1, detail::to_stream_error(err, fmt::format("cannot push to '{}'", stream)));
  (void)pending.release();  // the delivery report owns it now
}

detail::admin_options_ptr kafka_client::impl::admin_options(rd_kafka_admin_op_t op, admin_pending* pending) {
  detail::admin_options_ptr admin(rd_kafka_AdminOptions_new(producer.get(), op));
  char reason[256];
  rd_kafka_AdminOptions_set_request_timeout(admin.get(), timeout_ms(), reason, sizeof reason);
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
    rd_kafka_AdminOptions_set_operation_timeout(admin.get(), timeout_ms(), reason, sizeof reason);
  if (pending) rd_kafka_AdminOptions_set_opaque(admin.get(), pending);
  return admin;
}

// Called with saves_mutex held. The newest waiting save is committed; those before it are
// answered with it, since it replaces them.
void kafka_client::impl::start_save(const std::pair<std::string, std::string>& key) {
  auto& queue = saves[key];
  auto batch = std::move(queue.waiting);
  queue.waiting.clear();
  queue.in_flight = true;
  const auto index = batch.back().first;
  const auto what = fmt::format("cannot save the index of '{}' on '{}'", key.first, key.second);
  auto* pending = new admin_pending{[this, key, batch = std::move(batch), what](rd_kafka_event_t* ev) mutable {
    auto error = detail::to_stream_error(rd_kafka_event_error(ev), what);
    if (!error) {
      std::size_t count = 0;
      const auto* groups =
          rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &count);
      error = group_offset(groups, count, what).second;
    }
    for (auto& [i, done] : batch) guarded(log(), done, error);
    std::lock_guard lock(saves_mutex);
    auto& q = saves[key];
    q.in_flight = false;
    if (!q.waiting.empty())
      start_save(key);
    else
      saves.erase(key);
  }};
  detail::partitions_ptr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), key.second.c_str(), 0)->offset = index;
  auto* alter = rd_kafka_AlterConsumerGroupOffsets_new(key.first.c_str(), offsets.get());
  auto admin = admin_options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, pending);
  rd_kafka_AlterConsumerGroupOffsets(producer.get(), &alter, 1, admin.get(), events.get());
  rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
}

// --- the public face ---------------------------------------------------------------------------

result_or_failure<std::shared_ptr<kafka_client>> kafka_client::create(kafka_client_options options) {
  auto p = std::make_shared<impl>();
  p->options = std::move(options);
  p->logs.log = p->options.log;
  p->logs.prefix = "kafka";
  if (p->options.config.bootstrap_servers.empty())
    return fail(std::make_error_code(std::errc::invalid_argument), "kafka: no bootstrap servers");
  const auto produce_timeout = std::to_string(p->options.produce_timeout.count());
  auto conf = detail::make_conf(p->options.config,
                                {{"client.id", "nodus-stream"},
                                 {"acks", "all"},
                                 {"socket.nagle.disable", "true"},
                                 {"linger.ms", "1"},
                                 {"message.timeout.ms", produce_timeout},
                                 {"request.timeout.ms", produce_timeout},
                                 {"reconnect.backoff.max.ms", "1000"}},
                                {}, &p->logs);
  if (!conf) return conf.error();
  rd_kafka_conf_set_events(conf.value().get(), RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR);
  char reason[512] = {};
  p->producer.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.value().get(), reason, sizeof reason));
  if (!p->producer)
    return fail(std::make_error_code(std::errc::invalid_argument), fmt::format("kafka producer: {}", reason));
  (void)conf.value().release();
  auto reader = detail::stream_reader::start(p->options, p->brokers);
  if (!reader) return reader.error();
  p->reader = std::move(reader).value();
  p->events.reset(rd_kafka_queue_get_main(p->producer.get()));
  p->events_thread = std::thread([raw = p.get()] { raw->run_events(); });
  p->metadata_thread = std::thread([raw = p.get()] { raw->run_metadata(); });
  return std::shared_ptr<kafka_client>(new kafka_client(std::move(p)));
}

kafka_client::kafka_client(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

kafka_client::~kafka_client() {
  impl_->shutdown();
}

const std::string& kafka_client::bootstrap() const noexcept {
  return impl_->options.config.bootstrap_servers;
}

void kafka_client::create_stream(std::string stream, std::function<void(stream_error)> done) {
  bool exists = false;
  {
    std::lock_guard lock(impl_->topics_mutex);
    exists = impl_->known.contains(stream);
  }
  if (exists) return guarded(impl_->log(), done, stream_error{});
  auto* p = impl_.get();
  std::function<void()> job = [p, stream = std::move(stream), done] { p->create(stream, done); };
  if (!p->post(job)) guarded(p->log(), done, stopping_error());
}

void kafka_client::produce(std::string stream, bytes data, std::function<void(std::int64_t, stream_error)> done) {
  auto* p = impl_.get();
  p->with_stream(stream, [p, stream, data = std::move(data), done = std::move(done)](stream_error error) mutable {
    if (error) return guarded(p->log(), done, -1, std::move(error));
    p->produce_known(stream, data, std::move(done));
  });
}

void kafka_client::fetch(std::string stream, std::int64_t index, std::uint32_t limit, std::size_t max_bytes,
                         std::chrono::milliseconds wait,
                         std::function<void(std::vector<stream_message>, stream_error)> done) {
  auto* p = impl_.get();
  p->with_stream(stream,
                 [p, stream, index, limit, max_bytes, wait, done = std::move(done)](stream_error error) mutable {
                   if (error) return guarded(p->log(), done, std::vector<stream_message>{}, std::move(error));
                   p->reader->pull(stream, index, limit, max_bytes, wait, std::move(done));
                 });
}

void kafka_client::save_offset(std::string group, std::string stream, std::int64_t index,
                               std::function<void(stream_error)> done) {
  auto* p = impl_.get();
  p->with_stream(stream,
                 [p, group = std::move(group), stream, index, done = std::move(done)](stream_error error) mutable {
                   if (error) return guarded(p->log(), done, std::move(error));
                   std::lock_guard lock(p->saves_mutex);
                   auto key = std::pair{group, stream};
                   auto& queue = p->saves[key];
                   queue.waiting.emplace_back(index, std::move(done));
                   if (!queue.in_flight) p->start_save(key);
                 });
}

void kafka_client::load_offset(std::string group, std::string stream,
                               std::function<void(std::int64_t, stream_error)> done) {
  auto* p = impl_.get();
  p->with_stream(stream, [p, group = std::move(group), stream, done = std::move(done)](stream_error error) mutable {
    if (error) return guarded(p->log(), done, -1, std::move(error));
    const auto what = fmt::format("cannot read the index of '{}' on '{}'", group, stream);
    auto* pending = new admin_pending{[p, done = std::move(done), what](rd_kafka_event_t* ev) mutable {
      if (auto err = rd_kafka_event_error(ev)) return guarded(p->log(), done, -1, detail::to_stream_error(err, what));
      std::size_t count = 0;
      const auto* groups =
          rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &count);
      auto [offset, failed] = group_offset(groups, count, what);
      guarded(p->log(), done, failed ? -1 : std::max<std::int64_t>(offset, -1), std::move(failed));
    }};
    detail::partitions_ptr partitions(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(partitions.get(), stream.c_str(), 0);
    auto* list = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), partitions.get());
    auto admin = p->admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, pending);
    rd_kafka_ListConsumerGroupOffsets(p->producer.get(), &list, 1, admin.get(), p->events.get());
    rd_kafka_ListConsumerGroupOffsets_destroy(list);
  });
}

void kafka_client::check_cluster(std::function<void(result_or_failure<std::string>)> done) {
  auto* p = impl_.get();
  std::function<void()> job = [p, done] {
    const rd_kafka_metadata_t* raw = nullptr;
    const int timeout = p->metadata_timeout_ms();
    const auto err = rd_kafka_metadata(p->producer.get(), 0, nullptr, &raw, timeout);
    p->metadata_answered(err);
    detail::metadata_ptr metadata(raw);
    if (err)
      return done(fail(std::make_error_code(std::errc::host_unreachable),
                       fmt::format("cannot reach kafka at {} within {} ms: {}", p->options.config.bootstrap_servers,
                                   timeout, rd_kafka_err2str(err))));
    char* id = rd_kafka_clusterid(p->producer.get(), p->timeout_ms());
    auto description = fmt::format("{} broker(s), cluster id {}", metadata->broker_cnt, id ? id : "unknown");
    if (id) rd_kafka_mem_free(p->producer.get(), id);
    done(std::move(description));
  };
  if (!p->post(job)) done(fail(std::make_error_code(std::errc::operation_canceled), "the kafka client is stopping"));
}

}  // namespace nodus::stream
