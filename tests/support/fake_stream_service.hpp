#pragma once
// An in-memory stand-in for a hub's "stream_kafka" and "stream_kafka_index" services, speaking
// nodus/stream/protocol.hpp, with switches to make it misbehave: drop the next replies,
// refuse the next requests with an error, delay every reply, go away for a while (restart).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nodus/node/node.hpp"
#include "nodus/stream/protocol.hpp"

namespace nodus::test {

/// What the fake services keep and how they misbehave; shared by both workers, and kept when
/// the services (or their whole node) restart.
struct fake_stream_state {
  enum class op { create, push, pull, get_index, save_index, readers };

  struct pending_pull {
    route to;
    stream::stream_request request;
    std::chrono::steady_clock::time_point deadline;
  };

  mutable std::mutex mutex;
  std::map<std::string, std::vector<bytes>> streams;
  std::map<std::pair<std::string, std::string>, std::int64_t> indexes;
  std::vector<pending_pull> pending;  // long polls waiting for a push
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::int64_t>> pulled;  // last pull, top index
  std::map<op, unsigned> requests;  // every request received, per kind (push: push_batch too)
  unsigned batches = 0;             // push_batch requests stored
  std::map<op, unsigned> drops;     // handle the next N but send no reply
  std::map<op, std::pair<unsigned, stream::stream_errc>> failures;  // refuse the next N
  duration delay{0};                                                // every reply is sent this much later
  bool hold_pulls = true;    // false: empty pulls are answered at once (no long poll)
  bool take_batches = true;  // false: an older hub, which answers a push_batch bad_request

  /// Counts a request of kind `o`; the error to refuse it with, if a failure is armed.
  stream::stream_errc admit(op o) {
    ++requests[o];
    auto& f = failures[o];
    if (f.first == 0) return stream::stream_errc::none;
    --f.first;
    return f.second;
  }
  /// True when the reply to this request must be dropped.
  bool drop(op o) {
    auto& d = drops[o];
    if (d == 0) return false;
    --d;
    return true;
  }
};

namespace fake_detail {

template <class Reply>
task<result<>> answer(context& ctx, route to, Reply reply, duration delay) {
  if (delay > duration::zero()) {
    ctx.send_after(delay, std::move(to), reply);
    co_return ok();
  }
  (void)co_await ctx.send(std::move(to), reply);  // a client that has gone away is no error here
  co_return ok();
}

inline stream::stream_reply reply_to(const stream::stream_request& r) {
  stream::stream_reply out;
  out.kind = r.kind;
  out.request_id = r.request_id;
  out.stream = r.stream;
  return out;
}

inline std::vector<stream::stream_message> slice(const std::vector<bytes>& s, std::int64_t from, std::uint32_t limit) {
  std::vector<stream::stream_message> out;
  for (auto i = from; i < static_cast<std::int64_t>(s.size()) && out.size() < limit; ++i) out.push_back({i, s[i]});
  return out;
}

class stream_worker final : public worker<stream::stream_request> {
public:
  explicit stream_worker(std::shared_ptr<fake_stream_state> s) : s_(std::move(s)) {}

  task<result<>> handle_message(context& ctx, routed<stream::stream_request> message) override {
    const auto& r = message.body();
    if (r.kind == stream::stream_request::kind_t::readers) co_return co_await readers(ctx, std::move(message));
    auto reply = reply_to(r);
    std::vector<std::pair<route, stream::stream_reply>> woken;  // long polls a push answers
    bool silent = false;
    duration delay{0};
    {
      std::lock_guard lock(s_->mutex);
      delay = s_->delay;
      using kind = stream::stream_request::kind_t;
      const bool batch = r.kind == kind::push_batch;
      const auto o = r.kind == kind::create          ? fake_stream_state::op::create
                     : r.kind == kind::push || batch ? fake_stream_state::op::push
                                                     : fake_stream_state::op::pull;
      const auto refused = s_->admit(o);
      silent = refused == stream::stream_errc::none && s_->drop(o);
      if (batch && !s_->take_batches) {
        reply.error = {stream::stream_errc::bad_request, "unknown request kind 5"};
      } else if (refused != stream::stream_errc::none) {
        reply.error = {refused, "the fake says no"};
      } else if (r.kind == stream::stream_request::kind_t::create) {
        s_->streams[r.stream];
      } else if (!s_->streams.contains(r.stream)) {
        reply.error = {stream::stream_errc::unknown_stream, "no stream '" + r.stream + "'"};
      } else if (r.kind == stream::stream_request::kind_t::push) {
        auto& s = s_->streams[r.stream];
        s.push_back(r.data);
        reply.index = static_cast<std::int64_t>(s.size()) - 1;
        woken = wake(r.stream);
      } else if (batch) {
        auto& s = s_->streams[r.stream];
        s.insert(s.end(), r.records.begin(), r.records.end());
        reply.index = static_cast<std::int64_t>(s.size()) - 1;
        ++s_->batches;
        woken = wake(r.stream);
      } else if (r.index < 0 || r.limit == 0) {
        reply.error = {stream::stream_errc::bad_request, "bad index or limit"};
      } else {
        auto& [when, top] = s_->pulled.try_emplace(r.stream, std::chrono::steady_clock::now(), r.index).first->second;
        when = std::chrono::steady_clock::now();
        top = std::max(top, r.index);
        reply.messages = slice(s_->streams[r.stream], r.index, r.limit);
        if (reply.messages.empty() && r.wait_ms > 0 && s_->hold_pulls &&
            !silent) {  // long poll: a push answers it, or the timer
          const auto wait = std::chrono::milliseconds(r.wait_ms);
          s_->pending.push_back({message.return_route(), r, std::chrono::steady_clock::now() + wait});
          delay = std::max(delay, duration(wait));
        }
      }
    }
    for (auto& [to, pulled] : woken) co_await answer(ctx, std::move(to), std::move(pulled), delay);
    if (silent) co_return ok();
    co_return co_await answer(ctx, message.return_route(), std::move(reply), delay);
  }

private:
  // What the fake remembers of the pulls of a stream (an older hub: `fail_next(op::readers, n,
  // bad_request)`, as it answers a request kind it does not know).
  task<result<>> readers(context& ctx, routed<stream::stream_request> message) {
    const auto& r = message.body();
    stream::readers_reply reply;
    static_cast<stream::stream_reply&>(reply) = reply_to(r);
    duration delay{0};
    bool silent = false;
    {
      std::lock_guard lock(s_->mutex);
      delay = s_->delay;
      const auto refused = s_->admit(fake_stream_state::op::readers);
      silent = refused == stream::stream_errc::none && s_->drop(fake_stream_state::op::readers);
      if (refused != stream::stream_errc::none) {
        reply.error = {refused, "the fake says no"};
      } else if (auto it = s_->pulled.find(r.stream); it != s_->pulled.end()) {
        const auto now = std::chrono::steady_clock::now();
        reply.readers.last_pull_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.first).count();
        reply.readers.read_to = it->second.second;
        for (const auto& p : s_->pending)
          if (p.request.stream == r.stream && p.deadline > now) ++reply.readers.waiting;
      }
    }
    if (silent) co_return ok();
    co_return co_await answer(ctx, message.return_route(), std::move(reply), delay);
  }

  // The waiting long polls on `name` that the new message answers (expired ones are dropped).
  std::vector<std::pair<route, stream::stream_reply>> wake(const std::string& name) {
    std::vector<std::pair<route, stream::stream_reply>> out;
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(s_->pending, [&](fake_stream_state::pending_pull& p) {
      if (p.deadline <= now) return true;
      if (p.request.stream != name) return false;
      auto reply = reply_to(p.request);
      reply.messages = slice(s_->streams[name], p.request.index, p.request.limit);
      if (reply.messages.empty()) return false;
      out.emplace_back(p.to, std::move(reply));
      return true;
    });
    return out;
  }

  std::shared_ptr<fake_stream_state> s_;
};

class index_worker final : public worker<stream::index_request> {
public:
  explicit index_worker(std::shared_ptr<fake_stream_state> s) : s_(std::move(s)) {}

  task<result<>> handle_message(context& ctx, routed<stream::index_request> message) override {
    const auto& r = message.body();
    stream::index_reply reply;
    reply.kind = r.kind;
    reply.request_id = r.request_id;
    reply.stream = r.stream;
    reply.client_id = r.client_id;
    bool silent = false;
    duration delay{0};
    {
      std::lock_guard lock(s_->mutex);
      delay = s_->delay;
      const auto o = r.kind == stream::index_request::kind_t::get ? fake_stream_state::op::get_index
                                                                  : fake_stream_state::op::save_index;
      const auto key = std::make_pair(r.stream, r.client_id);
      const auto refused = s_->admit(o);
      silent = refused == stream::stream_errc::none && s_->drop(o);
      if (refused != stream::stream_errc::none) {
        reply.error = {refused, "the fake says no"};
      } else if (!s_->streams.contains(r.stream)) {
        reply.error = {stream::stream_errc::unknown_stream, "no stream '" + r.stream + "'"};
      } else if (r.kind == stream::index_request::kind_t::get) {
        reply.index = s_->indexes.contains(key) ? s_->indexes[key] : 0;
      } else if (r.index < 0) {
        reply.error = {stream::stream_errc::bad_request, "negative index"};
      } else {
        reply.index = s_->indexes[key] = r.index;
      }
    }
    if (silent) co_return ok();
    co_return co_await answer(ctx, message.return_route(), std::move(reply), delay);
  }

private:
  std::shared_ptr<fake_stream_state> s_;
};

}  // namespace fake_detail

/// The fake services on node `n`, at "stream_kafka" and "stream_kafka_index", over `state`
/// (a fresh one unless given: pass another instance's `state` to survive a node restart).
class fake_stream_service {
public:
  using op = fake_stream_state::op;

  explicit fake_stream_service(node& n, std::shared_ptr<fake_stream_state> state = nullptr)
      : n_(n), state_(state ? std::move(state) : std::make_shared<fake_stream_state>()) {
    start();
  }

  const std::shared_ptr<fake_stream_state>& state() const noexcept { return state_; }

  /// (Re)starts both services; their streams and indexes are the state's.
  void start() {
    (void)n_.start_worker(stream_at, fake_detail::stream_worker(state_));
    (void)n_.start_worker(index_at, fake_detail::index_worker(state_));
  }
  /// Stops both services: requests fail at the sender (nothing serves the address) until `start`.
  void stop() {
    (void)n_.stop_worker(stream_at);
    (void)n_.stop_worker(index_at);
  }
  /// Goes away for `downtime` and comes back with everything it had.
  void restart(duration downtime) {
    stop();
    std::this_thread::sleep_for(downtime);
    start();
  }

  /// Runs `f` on the state under its lock.
  template <class F>
  auto with(F f) const {
    std::lock_guard lock(state_->mutex);
    return f(*state_);
  }

  /// The next `n` requests of kind `o` are handled (a push is stored) but get no reply.
  void drop_replies(op o, unsigned n) {
    with([&](fake_stream_state& s) { s.drops[o] += n; });
  }
  /// The next `n` requests of kind `o` are refused with `code` (nothing is stored).
  void fail_next(op o, unsigned n, stream::stream_errc code = stream::stream_errc::kafka_unavailable) {
    with([&](fake_stream_state& s) { s.failures[o] = {n, code}; });
  }
  /// Every reply is sent `d` later.
  void delay_replies(duration d) {
    with([&](fake_stream_state& s) { s.delay = d; });
  }
  /// With false, a push_batch is answered bad_request, as by a hub older than push_batch.
  void take_batches(bool take) {
    with([&](fake_stream_state& s) { s.take_batches = take; });
  }
  /// How many push_batch requests were stored.
  unsigned batches() const {
    return with([](const fake_stream_state& s) { return s.batches; });
  }
  /// With false, pulls that find nothing are answered at once, as by a hub without long polls.
  void hold_pulls(bool hold) {
    with([&](fake_stream_state& s) { s.hold_pulls = hold; });
  }
  /// Loses every stream and index, as a hub whose embedded broker restarted.
  void forget_everything() {
    with([&](fake_stream_state& s) {
      s.streams.clear();
      s.indexes.clear();
      s.pending.clear();
      s.pulled.clear();
    });
  }
  /// Sets a client's saved index, e.g. backwards to force a redelivery.
  void set_index(const std::string& stream, const std::string& client, std::int64_t index) {
    with([&](fake_stream_state& s) { s.indexes[{stream, client}] = index; });
  }

  /// How many requests of kind `o` arrived.
  unsigned requests(op o) const {
    return with([&](fake_stream_state& s) { return s.requests[o]; });
  }
  /// What `stream` holds, in index order.
  std::vector<bytes> messages(const std::string& stream) const {
    return with(
        [&](fake_stream_state& s) { return s.streams.contains(stream) ? s.streams[stream] : std::vector<bytes>{}; });
  }
  /// The index saved for (`stream`, `client`), if any.
  std::optional<std::int64_t> saved_index(const std::string& stream, const std::string& client) const {
    return with([&](fake_stream_state& s) -> std::optional<std::int64_t> {
      auto it = s.indexes.find({stream, client});
      if (it == s.indexes.end()) return std::nullopt;
      return it->second;
    });
  }

  static constexpr const char* stream_at = "stream_kafka";
  static constexpr const char* index_at = "stream_kafka_index";

private:
  node& n_;
  std::shared_ptr<fake_stream_state> state_;
};

}  // namespace nodus::test
