#include "kafka_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nodus::stream_kafka::detail {
namespace {

constexpr std::chrono::milliseconds longest_poll{250};
constexpr int seek_timeout_ms = 5000;
constexpr int prime_timeout_ms = 1000;
// A pull whose wait is over is answered empty only once the consumer has reached the end of the
// partition (so "no message" means none in Kafka, not "not fetched yet"), or this much later.
constexpr std::chrono::milliseconds catch_up_grace{1000};
// A tail goes quiet after this many messages in a row came from this hub's delivery reports,
// then fetches from its end every probe interval (for at most the probe limit).
constexpr unsigned quiet_after = 4;
constexpr std::chrono::milliseconds probe_interval{100};
constexpr std::chrono::milliseconds probe_limit{1000};

stream_error stopping_error() { return {stream_errc::internal, "the hub's Kafka client is stopping"}; }

void run_all(std::vector<std::function<void()>>& out, spdlog::logger* log) {
  for (auto& f : out) {
    try {
      f();
    } catch (const std::exception& e) {
      if (log) log->error("kafka reader: a pull's completion threw: {}", e.what());
    }
  }
  out.clear();
}

partitions_ptr partition_zero(const std::string& topic, std::int64_t offset = RD_KAFKA_OFFSET_INVALID) {
  partitions_ptr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), 0)->offset = offset;
  return list;
}

}  // namespace

stream_reader::stream_reader(const kafka_client_options& options, std::shared_ptr<broker_state> brokers)
    : options_(options), brokers_(std::move(brokers)) {
  logs_.log = options.log;
  logs_.prefix = "kafka reader";
}

result_or_failure<std::unique_ptr<stream_reader>> stream_reader::start(const kafka_client_options& options,
                                                                       std::shared_ptr<broker_state> brokers) {
  std::unique_ptr<stream_reader> r(new stream_reader(options, std::move(brokers)));
  // The reader never joins its group nor commits: it only assigns partitions at explicit offsets
  // (librdkafka's manual assignment needs a group.id all the same).
  auto conf = make_conf(for_consumer(options.config),
                        {{"client.id", "nodus-stream-reader"},
                         {"socket.nagle.disable", "true"},
                         {"fetch.wait.max.ms", std::to_string(options.fetch_wait.count())},
                         {"fetch.error.backoff.ms", "100"},
                         {"reconnect.backoff.max.ms", "1000"},
                         {"queued.max.messages.kbytes", "4096"},
                         {"auto.offset.reset", "earliest"}},
                        {{"group.id", "nodus-stream-reader"},
                         {"enable.auto.commit", "false"},
                         {"enable.auto.offset.store", "false"},
                         {"enable.partition.eof", "true"}},
                        &r->logs_);
  if (!conf) return conf.error();
  char reason[512] = {};
  r->consumer_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.value().get(), reason, sizeof reason));
  if (!r->consumer_)
    return fail(std::make_error_code(std::errc::invalid_argument), fmt::format("kafka consumer: {}", reason));
  (void)conf.value().release();  // owned by the handle now
  rd_kafka_poll_set_consumer(r->consumer_.get());
  r->queue_.reset(rd_kafka_queue_get_consumer(r->consumer_.get()));
  r->thread_ = std::thread([self = r.get()] { self->run(); });
  return r;
}

stream_reader::~stream_reader() { stop(); }

void stream_reader::stop() {
  completions out;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [name, t] : tails_)
      for (auto& w : t.waiters) out.push_back([done = std::move(w.done)] { done({}, stopping_error()); });
    tails_.clear();
  }
  if (queue_) rd_kafka_queue_yield(queue_.get());
  if (thread_.joinable()) thread_.join();
  run_all(out, logs_.log.get());
  queue_.reset();
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
  consumer_.reset();
}

void stream_reader::pull(const std::string& stream, std::int64_t index, std::uint32_t limit, std::size_t max_bytes,
                         std::chrono::milliseconds wait, fetch_callback done) {
  completions out;
  bool wake = false;
  bool waits = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      out.push_back([done = std::move(done)] { done({}, stopping_error()); });
    } else {
      const auto now = clock::now();
      auto [it, created] = tails_.try_emplace(stream);
      tail& t = it->second;
      t.last_used = now;
      t.asked = std::max(t.asked, index);
      if (created || index < t.from) {
        reposition(t, index);
        wake = true;
      }
      // The puller has what lies below `index`: drop it (a later pull further back seeks again).
      while (!t.buffer.empty() && t.buffer.front().index < index) {
        t.bytes -= t.buffer.front().data.size();
        t.buffer.pop_front();
      }
      t.from = std::max(t.from, std::min(index, t.end));
      waiter w{index, limit, max_bytes, now + wait, std::move(done)};
      if (!answer(t, w, out, now)) {
        t.waiters.push_back(std::move(w));
        wake = waits = true;
      }
    }
  }
  if (wake) rd_kafka_queue_yield(queue_.get());
  // The stream's name was checked by the service (a valid stream name needs no escaping).
  if (waits && logs_.log)
    logs_.log->debug("kafka reader: a pull of '{}' from {} waits up to {} ms", stream, index, wait.count());
  run_all(out, logs_.log.get());
}

reader_activity stream_reader::readers(const std::string& stream) {
  std::lock_guard lock(mutex_);
  reader_activity activity;
  auto it = tails_.find(stream);
  if (it == tails_.end()) return activity;  // never pulled here, or not for `read_idle`
  const auto& t = it->second;
  activity.waiting = static_cast<std::uint32_t>(t.waiters.size());
  activity.last_pull_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t.last_used).count();
  activity.read_to = t.asked;
  return activity;
}

void stream_reader::offer(std::string_view stream, std::int64_t offset, const void* data, std::size_t size) {
  completions out;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    auto it = tails_.find(std::string(stream));
    if (stopping_ || it == tails_.end() || offset < it->second.end) return;  // the consumer brought it first
    tail& t = it->second;
    if (offset > t.end) {  // others wrote in between: the consumer must bring those (and then this)
      t.offered = 0;
      t.quiet = t.probing = false;
      wake = true;
    } else {
      const auto* first = static_cast<const std::uint8_t*>(data);
      t.buffer.push_back({offset, bytes(first, first + size)});
      t.bytes += size;
      t.end = offset + 1;
      ++t.offered;
      serve(t, out, clock::now());
    }
  }
  if (wake) rd_kafka_queue_yield(queue_.get());
  run_all(out, logs_.log.get());
}

void stream_reader::reposition(tail& t, std::int64_t index) {
  t.buffer.clear();
  t.bytes = 0;
  t.from = t.end = index;
  t.seek_pending = true;
  t.caught_up = false;
  t.offered = 0;
  t.quiet = t.probing = false;  // the consumer must fetch from `index`
}

bool stream_reader::answer(tail& t, waiter& w, completions& out, clock::time_point now) const {
  std::vector<stream_message> found;
  if (w.index >= t.from) {  // below `from` the buffer cannot say what exists
    auto it = std::lower_bound(t.buffer.begin(), t.buffer.end(), w.index,
                               [](const stream_message& m, std::int64_t i) { return m.index < i; });
    std::size_t size = 0;
    for (; it != t.buffer.end() && found.size() < w.limit; ++it) {
      if (!found.empty() && size + it->data.size() > w.max_bytes) break;
      size += it->data.size();
      found.push_back(*it);
    }
  }
  const bool over = now >= w.deadline && (t.caught_up || now >= w.deadline + catch_up_grace);
  if (found.empty() && !over) return false;
  stream_error error;
  if (found.empty() && brokers_->down)  // "nothing new" cannot be told from "Kafka did not answer"
    error = {stream_errc::kafka_unavailable,
             fmt::format("kafka at {}: every broker is down", options_.config.bootstrap_servers)};
  out.push_back([done = std::move(w.done), found = std::move(found), error = std::move(error)]() mutable {
    done(std::move(found), std::move(error));
  });
  return true;
}

void stream_reader::serve(tail& t, completions& out, clock::time_point now) {
  for (auto it = t.waiters.begin(); it != t.waiters.end();) {
    if (it->index < t.from && !t.seek_pending) {
      reposition(t, it->index);  // another pull moved past it; fetch again from its index
      ++it;
    } else if (answer(t, *it, out, now)) {
      it = t.waiters.erase(it);
    } else {
      ++it;
    }
  }
}

void stream_reader::run() {
  std::vector<message_ptr> batch;
  completions out;
  consumer_calls calls;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    apply_positions();
    if (auto* first = rd_kafka_consume_queue(queue_.get(), static_cast<int>(next_timeout().count()))) {
      batch.emplace_back(first);
      rd_kafka_message_t* more[256];
      const auto n = rd_kafka_consume_batch_queue(queue_.get(), 0, more, std::size(more));
      for (ssize_t i = 0; i < n; ++i) batch.emplace_back(more[i]);
    }
    {
      std::lock_guard lock(mutex_);
      take(batch, out);
      maintain(out, calls);
    }
    batch.clear();
    run_all(out, logs_.log.get());
    apply(calls);
    calls.clear();
  }
}

void stream_reader::apply(const consumer_calls& calls) {
  for (const auto& name : calls.pause)
    report("pause", rd_kafka_pause_partitions(consumer_.get(), partition_zero(name).get()), name);
  for (const auto& [name, offset] : calls.resume) {
    // Resumed, then sought: a resume alone does not wake librdkafka's broker thread (in 2.0.2),
    // which then fetches only on its next periodic wake-up, up to a second later; the seek
    // does. Everything below `end` is in the buffer already, so the fetch starts there.
    report("resume", rd_kafka_resume_partitions(consumer_.get(), partition_zero(name).get()), name);
    auto list = partition_zero(name, offset);
    error_ptr error(rd_kafka_seek_partitions(consumer_.get(), list.get(), seek_timeout_ms));
    report("fetch from end of", error ? rd_kafka_error_code(error.get()) : list->elems[0].err, name);
  }
  for (const auto& name : calls.drop) {
    if (!assigned_.erase(name)) continue;
    error_ptr error(rd_kafka_incremental_unassign(consumer_.get(), partition_zero(name).get()));
    report("stop reading", error ? rd_kafka_error_code(error.get()) : RD_KAFKA_RESP_ERR_NO_ERROR, name);
  }
}

void stream_reader::report(const char* what, rd_kafka_resp_err_t err, const std::string& topic) {
  if (!logs_.log) return;
  if (err)
    logs_.log->warn("kafka reader: cannot {} '{}': {}", what, topic, rd_kafka_err2str(err));
  else
    logs_.log->trace("kafka reader: {} '{}'", what, topic);
}

// Assigns partition 0 of new streams and seeks those asked for from elsewhere, outside the lock
// (librdkafka answers these calls from its own threads).
void stream_reader::apply_positions() {
  std::vector<std::pair<std::string, std::int64_t>> seeks;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, t] : tails_)
      if (t.seek_pending) seeks.emplace_back(name, t.from);
  }
  for (const auto& [name, offset] : seeks) {
    if (!assigned_.contains(name)) {
      // Without this the consumer learns where the new topic lives on its next periodic scan,
      // up to a second later. (The stream is known to exist: asking cannot create it.)
      topic_ptr topic(rd_kafka_topic_new(consumer_.get(), name.c_str(), nullptr));
      const rd_kafka_metadata_t* metadata = nullptr;
      (void)rd_kafka_metadata(consumer_.get(), 0, topic.get(), &metadata, prime_timeout_ms);
      metadata_ptr release(metadata);  // only the side effect matters
    }
    auto list = partition_zero(name, offset);
    error_ptr error(assigned_.contains(name) ? rd_kafka_seek_partitions(consumer_.get(), list.get(), seek_timeout_ms)
                                             : rd_kafka_incremental_assign(consumer_.get(), list.get()));
    const auto err = error ? rd_kafka_error_code(error.get()) : list->elems[0].err;
    if (err) {
      report(fmt::format("read from offset {}", offset).c_str(), err, name);
      continue;  // tried again on the next turn
    }
    assigned_.insert(name);
    std::lock_guard lock(mutex_);
    auto it = tails_.find(name);
    if (it != tails_.end() && it->second.seek_pending && it->second.from == offset) it->second.seek_pending = false;
  }
}

void stream_reader::take(std::vector<message_ptr>& messages, completions& out) {
  std::unordered_set<tail*> touched;
  for (const auto& m : messages) {
    if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) brokers_->down = true;
      if (logs_.log) logs_.log->debug("kafka reader: {}", rd_kafka_message_errstr(m.get()));
      continue;
    }
    brokers_->down = false;  // a fetch answered
    if (!m->rkt || m->partition != 0) continue;
    auto it = tails_.find(rd_kafka_topic_name(m->rkt));
    if (it == tails_.end() || it->second.seek_pending) continue;
    tail& t = it->second;
    if (m->err) {  // the end of the partition: everything there is has been seen
      t.caught_up = true;
      if (t.probing) {  // nobody else wrote: quiet again
        t.probing = false;
        t.next_probe = clock::now() + probe_interval;
      }
      touched.insert(&t);
      continue;
    }
    if (m->offset < t.end) continue;
    t.offered = 0;  // someone else writes here: keep fetching
    t.quiet = t.probing = false;
    const auto* first = static_cast<const std::uint8_t*>(m->payload);
    t.buffer.push_back({m->offset, first ? bytes(first, first + m->len) : bytes{}});
    t.bytes += m->len;
    t.end = m->offset + 1;
    touched.insert(&t);
  }
  const auto now = clock::now();
  for (auto* t : touched) serve(*t, out, now);
}

void stream_reader::maintain(completions& out, consumer_calls& calls) {
  const auto now = clock::now();
  for (auto it = tails_.begin(); it != tails_.end();) {
    auto& [name, t] = *it;
    serve(t, out, now);  // answers the pulls whose wait is over
    if (t.waiters.empty() && now - t.last_used > options_.read_idle) {
      calls.drop.push_back(name);
      it = tails_.erase(it);
      continue;
    }
    steer(name, t, now, calls);
    ++it;
  }
}

// Whether the consumer fetches this tail: not while its buffer is full, not while the tail is
// quiet (except to probe).
void stream_reader::steer(const std::string& name, tail& t, clock::time_point now, consumer_calls& calls) const {
  if (t.seek_pending) {
    t.quiet = t.probing = t.full = false;
  } else {
    if (!t.full && t.bytes > options_.read_buffer_bytes)
      t.full = true;
    else if (t.full && t.bytes <= options_.read_buffer_bytes / 2)
      t.full = false;
    if (!t.quiet && t.caught_up && t.offered >= quiet_after) {
      t.quiet = true;
      t.next_probe = now + probe_interval;
    }
    if (t.quiet && !t.probing && now >= t.next_probe) {
      t.probing = true;  // fetches from `end` until the end of the partition (or new messages)
      t.probe_deadline = now + probe_limit;
      if (logs_.log) logs_.log->trace("kafka reader: probe '{}' from {}", name, t.end);
    } else if (t.probing && now >= t.probe_deadline) {
      t.probing = false;  // no answer (a broker down?): try again later
      t.next_probe = now + probe_interval;
    }
  }
  const bool paused = t.full || (t.quiet && !t.probing);
  if (paused != t.consumer_paused) {
    t.consumer_paused = paused;
    if (paused)
      calls.pause.push_back(name);
    else
      calls.resume.emplace_back(name, t.end);
  }
}

std::chrono::milliseconds stream_reader::next_timeout() {
  std::lock_guard lock(mutex_);
  const auto now = clock::now();
  auto timeout = longest_poll;
  for (const auto& [name, t] : tails_) {
    if (t.seek_pending) timeout = std::min(timeout, std::chrono::milliseconds(50));
    if (t.quiet) {
      const auto due = t.probing ? t.probe_deadline : t.next_probe;
      timeout =
          std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(std::max(due - now, clock::duration::zero())));
    }
    for (const auto& w : t.waiters) {
      auto due = w.deadline;
      if (due <= now && !t.caught_up) due += catch_up_grace;  // the end of the partition will wake us
      timeout =
          std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(std::max(due - now, clock::duration::zero())));
    }
  }
  return timeout;
}

}  // namespace nodus::stream_kafka::detail
