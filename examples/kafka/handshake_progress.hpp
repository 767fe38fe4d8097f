// examples/kafka/handshake_progress.hpp — not in the Rust guide: what Alice says while her
// secure channel handshake travels through Kafka, and how long she waits for it.
//
// The handshake is three messages and a confirmation: Alice's first message goes to Bob through
// his receiver stream, his answer (2) comes back through his sender stream, her last message (3)
// goes to him, and his confirmation that he accepts her comes back. Her legs she can watch: her
// stream client's status says when the hub has confirmed each push and when something came
// back, and the hub says who pulls Bob's receiver stream and how far (`stream::ask_readers`).
// She says it on stdout, in lines that start with "alice: " (her other stdout lines are as in
// the guide):
//
//   alice: handshake sent to Bob through stream 'alice-to-bob_…'; waiting for his answer (1/3)
//   alice: Bob answered through stream 'bob-to-alice_…' (2/3); the last handshake message goes
//          to him through stream 'alice-to-bob_…' (3/3)
//
// and, when it is so, as soon as the hub says it:
//
//   alice: Bob has read it from stream 'alice-to-bob_…'; his answer comes through stream
//          'bob-to-alice_…'
//   alice: nobody reads stream 'alice-to-bob_…' on the hub (is Bob running, and are the names
//          right?)
//   alice: still waiting for Bob's answer (10 s): the hub confirmed the handshake and stream
//          'alice-to-bob_…' is being read
//
// How long she waits: the secure channel's default `handshake_timeout` (10 s), then 10 s more
// each time the handshake is still on its way: the hub confirmed her latest message and someone
// pulls Bob's receiver stream (or did within 10 s), or Bob read that message less than 5 s ago.
// 60 s at most. She gives up at the end of the first 10 s in which it is not, and exits 1 with
// the reason on stderr: nobody reads the stream (until then she waits, for Bob may be starting
// or the hub restarting), the hub never confirmed her message, or Bob read it and nothing came
// back within 5 s (his sender name, her receiver stream, is wrong?). A hub too old to say who
// reads a stream leaves her waiting while it confirms her messages, up to the 60 s.
//
// What the hub says about readers is only the hub's word. A lying hub can make her wait up to
// 60 s or give up early, as a hub that drops messages could anyway; it cannot make her trust
// anyone (the handshake does that), and the stream client keeps its numbers within sense.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "nodus/core/failure.hpp"
#include "nodus/node/worker.hpp"
#include "nodus/stream/client.hpp"

namespace examples {

namespace progress_detail {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// What the watcher learnt and the secure channel's `keep_waiting` decides on, under `mutex`.
struct state {
  state(nodus::stream::connected_stream s, std::string h, milliseconds p)
      : stream(std::move(s)), hub(std::move(h)), period(p), recent(std::max(p, milliseconds(10'000))) {}

  nodus::stream::connected_stream stream;
  std::string hub;
  milliseconds period;  // the secure channel's handshake_timeout
  milliseconds recent;  // a pull this recent is a reader
  static constexpr int max_waits = 6;

  std::mutex mutex;
  std::uint64_t sent = 0;        // Alice's handshake messages the hub confirmed (1, then 2 with message 3)
  std::int64_t sent_index = -1;  // the index the latest of them got
  std::optional<clock::time_point> answered_at;  // when Bob's answer (2) arrived
  std::optional<clock::time_point> taken_at;     // when the hub said Bob had read the latest of hers
  bool hub_tells = true;                         // false: the hub does not know `readers` requests
  std::optional<bool> reading;                   // the hub's latest word on whether Bob's receiver stream is pulled
  bool said_sent = false, said_answer = false, said_retrying = false, said_nobody = false, said_reader = false;
  int waits = 1;  // how many handshake_timeouts have passed (or are passing)

  /// One line on stdout.
  static void say(const std::string& line) {
    std::printf("alice: %s\n", line.c_str());
    std::fflush(stdout);
  }
  std::string to_bob() const { return "stream '" + stream.sender_name() + "'"; }
  std::string from_bob() const { return "stream '" + stream.receiver_name() + "'"; }
  std::string nobody() const {
    return "nobody reads " + to_bob() + " on the hub (is Bob running, and are the names right?)";
  }
  void say_sent() {
    if (!std::exchange(said_sent, true))
      say("handshake sent to Bob through " + to_bob() + "; waiting for his answer (1/3)");
  }
  void say_answer() {
    if (!std::exchange(said_answer, true))
      say("Bob answered through " + from_bob() + " (2/3); the last handshake message goes to him through " + to_bob() +
          " (3/3)");
  }

  // What the stream client says of her pushes and of what came back.
  void look_at_status() {
    const auto status = stream.status();
    if (status.confirmed > sent) {  // a new message of hers is on the stream: has Bob read it?
      sent = status.confirmed;
      sent_index = status.confirmed_index;
      taken_at.reset();
      say_sent();
    } else if (sent == 0 && !said_retrying && status.sender == nodus::stream::stream_status::state::retrying) {
      said_retrying = true;
      say("the hub at " + hub + " has not taken the handshake yet (" + status.last_error + "); trying again");
    }
    if (!answered_at && status.delivered > 0) {  // Bob's answer reached her initiator
      answered_at = clock::now();
      say_sent();
      say_answer();
    }
  }

  // What the hub says of the readers of Bob's receiver stream.
  void heard(const nodus::result_or_failure<nodus::stream::stream_readers>& readers) {
    if (!readers) {
      if (readers.error().code != nodus::errc::not_supported) return;  // asked again next turn
      hub_tells = false;
      say("the hub does not say who reads " + to_bob() + "; waiting for Bob's answer");
      return;
    }
    reading = readers.value().active(recent);
    if (!*reading && !said_nobody) {
      said_nobody = true;
      say(nobody());
    } else if (*reading && said_nobody && !said_reader) {
      said_reader = true;
      say(to_bob() + " has a reader now");
    }
    if (sent > 0 && !taken_at && readers.value().has_read(sent_index)) {
      taken_at = clock::now();
      if (!answered_at) say("Bob has read it from " + to_bob() + "; his answer comes through " + from_bob());
    }
  }

  // Whether to wait one more `period` (`keep_waiting`).
  nodus::result_or_failure<> verdict() {
    using nodus::errc;
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(period * waits).count();
    const auto now = clock::now();
    const auto error = stream.status().last_error;
    const auto because = error.empty() ? std::string() : ": " + error;
    const bool last = answered_at.has_value();  // message 3 is the one on its way
    if (sent == 0)
      return nodus::fail(errc::timeout, fmt::format("the hub at {} has not confirmed the handshake sent to {} within "
                                                    "{} s{}",
                                                    hub, to_bob(), waited, because));
    if (last && sent < 2 && now - *answered_at >= period / 2)
      return nodus::fail(errc::timeout, fmt::format("the hub at {} has not confirmed the last handshake message "
                                                    "sent to {}{}",
                                                    hub, to_bob(), because));
    if (taken_at && now - *taken_at >= period / 2)  // Bob answers in a moment, not in seconds
      return nodus::fail(errc::timeout,
                         last
                             ? fmt::format("Bob has read the last handshake message from {}, but his confirmation "
                                           "has not come through {} (did his side give up waiting?)",
                                           to_bob(), from_bob())
                             : fmt::format("Bob has read the handshake from {}, but his answer has not come through {} "
                                           "(is the sender name right?)",
                                           to_bob(), from_bob()));
    if (!taken_at && hub_tells && reading && !*reading) return nodus::fail(errc::timeout, nobody());
    if (waits >= max_waits)
      return nodus::fail(errc::timeout, fmt::format("no answer from Bob within {} s, although the hub confirmed the "
                                                    "handshake",
                                                    waited));
    ++waits;
    const auto how = taken_at              ? std::string(" and Bob has read it")
                     : reading && *reading ? " and " + to_bob() + " is being read"
                                           : std::string();
    say(fmt::format("still waiting for Bob's {} ({} s): the hub confirmed the handshake{}",
                    last ? "confirmation" : "answer", waited, how));
    return nodus::ok();
  }
};

/// Looks at the stream client's status every 50 ms, and asks the hub about Bob's receiver stream
/// every half second once a message of hers is on it, until stopped.
class watcher final : public nodus::processor {
public:
  explicit watcher(std::shared_ptr<state> s) : s_(std::move(s)) {}

  nodus::task<nodus::result<bool>> process(nodus::context& ctx) override {
    bool ask = false;
    {
      std::lock_guard lock(s_->mutex);
      s_->look_at_status();
      ask = s_->sent > 0 && s_->hub_tells && clock::now() >= next_ask_;
    }
    if (ask) {
      auto readers = co_await nodus::stream::ask_readers(ctx, s_->stream);
      next_ask_ = clock::now() + milliseconds(500);
      std::lock_guard lock(s_->mutex);
      s_->heard(readers);
    }
    if (auto slept = co_await ctx.sleep(milliseconds(50)); !slept) co_return false;
    co_return true;
  }

private:
  std::shared_ptr<state> s_;
  clock::time_point next_ask_{};
};

inline nodus::task<nodus::result<>> start(nodus::context& ctx, std::shared_ptr<state> s) {
  const nodus::address at = "handshake_progress";
  watcher w(std::move(s));  // named: no temporaries in a co_await (g++ 12)
  co_return co_await ctx.start_processor(at, std::move(w));
}

inline nodus::task<nodus::result<>> stop(nodus::context& ctx) {
  const nodus::address at = "handshake_progress";
  co_return co_await ctx.stop_worker(at);
}

}  // namespace progress_detail

/// Alice's progress lines and patience while her handshake travels through `stream` (above).
class handshake_progress {
public:
  /// `handshake_timeout`: the secure channel's, the period of her patience.
  handshake_progress(nodus::stream::connected_stream stream, std::string hub,
                     std::chrono::milliseconds handshake_timeout)
      : s_(std::make_shared<progress_detail::state>(std::move(stream), std::move(hub), handshake_timeout)) {}

  /// For `secure_channel::options::keep_waiting`.
  std::function<nodus::result_or_failure<>()> keep_waiting() const {
    return [s = s_] {
      std::lock_guard lock(s->mutex);
      s->look_at_status();
      return s->verdict();
    };
  }
  /// Starts watching, on the node of `ctx`.
  nodus::task<nodus::result<>> start(nodus::context& ctx) const { return progress_detail::start(ctx, s_); }
  /// Stops watching.
  nodus::task<nodus::result<>> stop(nodus::context& ctx) const { return progress_detail::stop(ctx); }
  /// Says what the watcher had no time to say, once the channel is made (after `stop`).
  void established() const {
    std::lock_guard lock(s_->mutex);
    s_->say_sent();
    s_->say_answer();
  }

private:
  std::shared_ptr<progress_detail::state> s_;
};

}  // namespace examples
