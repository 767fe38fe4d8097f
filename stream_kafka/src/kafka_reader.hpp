#pragma once
// The pulls of the stream service: one consumer tails partition 0 of every stream being pulled,
// on its own thread, into a bounded buffer per stream; pulls are answered from the buffers, or
// wait there for the first new message. Messages this hub produced are put in the buffer from
// their delivery reports, so a waiting pull sees them without a fetch round trip.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kafka_handles.hpp"

namespace nodus::stream_kafka::detail {

using fetch_callback = std::function<void(std::vector<stream_message>, stream_error)>;

class stream_reader {
public:
  /// Creates the consumer (it fails like `kafka_client::create`) and starts the thread.
  static result_or_failure<std::unique_ptr<stream_reader>> start(const kafka_client_options& options,
                                                                 std::shared_ptr<broker_state> brokers);
  ~stream_reader();
  stream_reader(const stream_reader&) = delete;
  stream_reader& operator=(const stream_reader&) = delete;

  /// See `kafka_client::fetch`; `stream` is known to exist.
  void pull(const std::string& stream, std::int64_t index, std::uint32_t limit, std::size_t max_bytes,
            std::chrono::milliseconds wait, fetch_callback done);
  /// See `kafka_client::readers`.
  reader_activity readers(const std::string& stream);
  /// A message this hub produced was stored at `offset` of `stream`.
  void offer(std::string_view stream, std::int64_t offset, const void* data, std::size_t size);
  /// Answers every waiting pull (`internal`: stopping), stops the thread, closes the consumer.
  void stop();

private:
  using clock = std::chrono::steady_clock;
  struct waiter {
    std::int64_t index;
    std::uint32_t limit;
    std::size_t max_bytes;
    clock::time_point deadline;
    fetch_callback done;
  };
  // What is known of one stream: every message with an offset in [from, end) is in `buffer`
  // (offsets missing there do not exist), except while a seek to `from` is pending.
  struct tail {
    std::int64_t from = 0;
    std::int64_t end = 0;
    std::deque<stream_message> buffer;
    std::size_t bytes = 0;
    bool seek_pending = true;
    bool caught_up = false;  // the consumer reached the end of the partition since the last seek
    // Fetching pauses while the buffer is full, and while this hub's own pushes keep the buffer
    // current ("quiet": refetching them would cost the mock broker a scan of its whole log per
    // fetch); a quiet tail fetches from `end` every probe interval in case others wrote.
    bool full = false;
    bool quiet = false;
    bool probing = false;
    bool consumer_paused = false;  // what the consumer was last told
    unsigned offered = 0;          // messages from delivery reports since the consumer brought one
    clock::time_point next_probe;
    clock::time_point probe_deadline;
    std::vector<waiter> waiters;
    clock::time_point last_used;  // when the last pull arrived
    std::int64_t asked = -1;      // the highest index a pull asked for
  };
  // What the reader thread asks of the consumer after a turn, outside the lock.
  struct consumer_calls {
    std::vector<std::string> pause, drop;
    std::vector<std::pair<std::string, std::int64_t>> resume;  // resume, then fetch from this offset
    void clear() { pause.clear(), resume.clear(), drop.clear(); }
  };
  using completions = std::vector<std::function<void()>>;

  stream_reader(const kafka_client_options& options, std::shared_ptr<broker_state> brokers);
  void run();
  void apply_positions();
  void take(std::vector<message_ptr>& messages, completions& out);
  void serve(tail& t, completions& out, clock::time_point now);
  void reposition(tail& t, std::int64_t index);
  void maintain(completions& out, consumer_calls& calls);
  void steer(const std::string& name, tail& t, clock::time_point now, consumer_calls& calls) const;
  void apply(const consumer_calls& calls);
  bool answer(tail& t, waiter& w, completions& out, clock::time_point now) const;
  void report(const char* what, rd_kafka_resp_err_t err, const std::string& topic);
  std::chrono::milliseconds next_timeout();

  kafka_client_options options_;
  std::shared_ptr<broker_state> brokers_;
  log_target logs_;
  handle_ptr consumer_;
  queue_ptr queue_;
  std::thread thread_;

  std::mutex mutex_;
  std::unordered_map<std::string, tail> tails_;
  bool stopping_ = false;
  std::unordered_set<std::string> assigned_;  // the reader thread's own: partitions assigned in the consumer
};

}  // namespace nodus::stream_kafka::detail
