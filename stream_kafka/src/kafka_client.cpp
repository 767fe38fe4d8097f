// The stream services' Kafka client. Three threads of its own, none of the node's:
//  - events: the producer's queue (delivery reports, admin results for consumer-group offsets);
//  - metadata: blocking calls, one at a time (which topics exist, creating topics);
//  - the reader's (kafka_reader.cpp): the consumer that answers pulls.

#include <fmt/format.h>

#include "kafka_client_impl.hpp"

namespace nodus::stream_kafka {

using detail::admin_pending;
using detail::error_callback;
using detail::guarded;
using detail::produce_pending;
using detail::stopping_error;

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
      case RD_KAFKA_EVENT_ERROR: {
        const auto err = rd_kafka_event_error(ev.get());
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) brokers->down = true;
        if (detail::is_refusal(err)) {
          refused(rd_kafka_event_error_string(ev.get()));
          break;
        }
        // librdkafka's own log lines already said it; only a fatal error is news.
        if (log())
          log()->log(rd_kafka_event_error_is_fatal(ev.get()) ? spdlog::level::err : spdlog::level::debug, "kafka: {}",
                     rd_kafka_event_error_string(ev.get()));
        break;
      }
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

// --- produce -----------------------------------------------------------------------

void kafka_client::impl::produce_known(const std::string& stream, const bytes& data, const std::string& key,
                                       std::function<void(std::int64_t, stream_error)> done) {
  auto pending = std::make_unique<produce_pending>(produce_pending{std::move(done)});
  // No key: a null key (RD_KAFKA_V_KEY with a null pointer), as the streams have always had.
  const auto err =
      rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(topic(stream)), RD_KAFKA_V_PARTITION(0),
                        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
                        RD_KAFKA_V_VALUE(const_cast<std::uint8_t*>(data.data()), data.size()),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(pending.get()), RD_KAFKA_V_END);
  if (err)
    return guarded(log(), pending->done, -1, detail::to_stream_error(err, fmt::format("cannot push to '{}'", stream)));
  (void)pending.release();  // the delivery report owns it now
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
                                 {"linger.ms", "0"},
                                 // In order, and none twice, across the producer's own retries:
                                 // a push_batch's records are produced one after another.
                                 {"enable.idempotence", "true"},
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

kafka_client::~kafka_client() { impl_->shutdown(); }

const std::string& kafka_client::bootstrap() const noexcept { return impl_->options.config.bootstrap_servers; }

void kafka_client::create_stream(std::string stream, std::function<void(stream_error)> done, topic_settings settings) {
  bool exists = false;
  {
    std::lock_guard lock(impl_->topics_mutex);
    exists = impl_->known.contains(stream);
  }
  if (exists) return guarded(impl_->log(), done, stream_error{});
  auto* p = impl_.get();
  std::function<void()> job = [p, stream = std::move(stream), done, settings] { p->create(stream, done, settings); };
  if (!p->post(job)) guarded(p->log(), done, stopping_error());
}

void kafka_client::produce(std::string stream, bytes data, std::function<void(std::int64_t, stream_error)> done,
                           std::string key) {
  auto* p = impl_.get();
  p->with_stream(stream, [p, stream, data = std::move(data), done = std::move(done),
                          key = std::move(key)](stream_error error) mutable {
    if (error) return guarded(p->log(), done, -1, std::move(error));
    p->produce_known(stream, data, key, std::move(done));
  });
}

void kafka_client::end_offset(std::string stream, std::function<void(std::int64_t, stream_error)> done) {
  auto* p = impl_.get();
  p->with_stream(stream, [p, stream, done = std::move(done)](stream_error error) mutable {
    if (error) return guarded(p->log(), done, -1, std::move(error));
    // A blocking request: on the metadata thread, as the other ones.
    std::function<void()> job = [p, stream, done] {
      std::int64_t low = -1, high = -1;
      const auto err =
          rd_kafka_query_watermark_offsets(p->producer.get(), stream.c_str(), 0, &low, &high, p->metadata_timeout_ms());
      p->metadata_answered(err);
      auto failed = detail::to_stream_error(err, fmt::format("cannot read the end of '{}'", stream));
      guarded(p->log(), done, err ? -1 : high, std::move(failed));
    };
    if (!p->post(job)) guarded(p->log(), done, -1, stopping_error());
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

reader_activity kafka_client::readers(const std::string& stream) const {
  return impl_->reader ? impl_->reader->readers(stream) : reader_activity{};
}

void kafka_client::impl::refused(std::string why) {
  // "sasl_ssl://host:port/bootstrap: SASL authentication error: Authentication failed: ... (after
  // 304ms in state AUTH_REQ)": the broker's words are what a user can act on.
  for (const std::string_view lead : {"SASL authentication error: ", ": "})
    if (const auto at = why.find(lead); at != std::string::npos) {
      why.erase(0, at + lead.size());
      break;
    }
  if (const auto after = why.rfind(" (after "); after != std::string::npos) why.erase(after);
  const bool first = brokers->refusal().empty();
  brokers->refuse(why);
  // At start check_cluster says it (the hub stops there); later, the error is news once.
  if (!first || !brokers->answered || !log()) return;
  log()->error("kafka: {}", refusal_message(why));
}

std::string kafka_client::impl::refusal_message(const std::string& why) const {
  std::string user;
  for (const auto& p : options.config.properties)
    if (p.name == "sasl.username") user = p.value;
  return fmt::format(
      "kafka at {} refused the connection{}: {} (check security.protocol, sasl.mechanism, "
      "sasl.jaas.config or sasl.username and sasl.password, and ssl.ca.location in the kafka config)",
      options.config.bootstrap_servers, user.empty() ? "" : fmt::format(" of user '{}'", user), why);
}

void kafka_client::check_cluster(std::function<void(result_or_failure<std::string>)> done) {
  auto* p = impl_.get();
  std::function<void()> job = [p, done] {
    const rd_kafka_metadata_t* raw = nullptr;
    const int timeout = p->metadata_timeout_ms();
    // In slices of at most 250 ms, so that brokers refusing the credentials are reported when
    // they say so, not when the timeout ends.
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
    auto err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      err = rd_kafka_metadata(p->producer.get(), 0, nullptr, &raw, static_cast<int>(std::min<long>(left.count(), 250)));
      if (!err || !p->brokers->refusal().empty()) break;
    }
    p->metadata_answered(err);
    detail::metadata_ptr metadata(raw);
    if (err && !p->brokers->refusal().empty())
      return done(fail(std::make_error_code(std::errc::permission_denied), p->refusal_message(p->brokers->refusal())));
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

}  // namespace nodus::stream_kafka
