// The client of a key custodian: the cache, one request per key however many ask at once, and
// errors a user can act on. An ask that finds another ask's request under way waits for it in a
// detached context of its own, woken by an empty message when the answer is in.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/kafka_crypto/custodian_client.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <map>
#include <mutex>

#include "nodus/core/error.hpp"

namespace nodus::kafka_crypto {
namespace {

using time_point = std::chrono::system_clock::time_point;

/// A key as the client got it: `born` is its creation on this client's clock.
struct fetched {
  shared_key key;
  time_point born;
};

struct flight {
  std::optional<result_or_failure<fetched>> outcome;
  std::vector<address> waiters;
};

auto key_failure(key_error e, std::string reason) { return fail(make_error_code(e), std::move(reason)); }

}  // namespace

struct custodian_client::state {
  state(context c, custodian_client_options o) : ctx(std::move(c)), options(std::move(o)) {}

  context ctx;  // only to make detached contexts from: each request has its own
  custodian_client_options options;
  mutable std::mutex mutex;
  std::map<key_name, fetched> by_name;  // `born` here: when it was fetched
  std::map<std::string, fetched, std::less<>> producing;
  std::map<std::string, std::shared_ptr<flight>, std::less<>> flights;
  std::uint64_t next_request = 1, requests = 0, waiting = 0;

  time_point now() const { return options.clock ? options.clock() : std::chrono::system_clock::now(); }
  std::string where() const { return options.description.empty() ? options.to.to_string() : options.description; }
};

namespace {

using client_state = custodian_client::state;

std::string seconds_text(duration d) { return fmt::format("{} s", std::chrono::duration<double>(d).count()); }

// What the reply says, as a key or as a failure naming the custodian.
result_or_failure<fetched> judge(client_state& s, const custodian_request& asked, custodian_reply reply) {
  const auto at = "the key custodian at " + s.where();
  switch (reply.status) {
    case custodian_status::ok: break;
    case custodian_status::refused: return key_failure(key_error::refused, at + " refused: " + reply.reason);
    case custodian_status::deleted: return key_failure(key_error::deleted, at + ": " + reply.reason);
    default: return key_failure(key_error::unreachable, at + " could not answer: " + reply.reason);
  }
  const data_key& k = *reply.key;
  const bool fits = asked.op == custodian_op::key_for_producing ? k.topic == asked.topic : k.name == asked.name;
  if (!fits || reply.request_id != asked.request_id)
    return key_failure(key_error::unreachable, at + " answered another request than the one asked");
  const auto born = s.now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(reply.age);
  return fetched{std::make_shared<data_key>(std::move(*reply.key)), born};
}

task<result_or_failure<fetched>> request_once(std::shared_ptr<client_state> s, custodian_request asked) {
  context temporary = s->ctx.new_detached("kafka_keys.");
  route to = s->options.to;
  if (s->options.resolve) {
    auto resolved = co_await s->options.resolve(temporary);
    if (!resolved)
      co_return key_failure(key_error::unreachable,
                            "cannot reach the key custodian at " + s->where() + ": " + resolved.error().message());
    to = std::move(resolved).value();
  }
  {
    std::lock_guard lock(s->mutex);
    asked.request_id = s->next_request++;
    ++s->requests;
  }
  bytes payload = encode(asked);
  auto sent = co_await temporary.send(std::move(to), std::move(payload));
  if (!sent)
    co_return key_failure(key_error::unreachable,
                          "cannot send to the key custodian at " + s->where() + ": " + sent.error().message());
  auto answer = co_await temporary.receive_message_or_failure(s->options.timeout);
  if (!answer && answer.error().code == errc::timeout) {
    // The way may be dead without knowing it (a channel through a relay whose far end restarted).
    if (s->options.unanswered) s->options.unanswered();
    co_return key_failure(key_error::unreachable, "the key custodian at " + s->where() + " did not answer in " +
                                                      seconds_text(s->options.timeout));
  }
  if (!answer)
    co_return key_failure(key_error::unreachable,
                          "the key custodian at " + s->where() + " cannot be reached: " + answer.error().message());
  auto reply = decode_custodian_reply(answer.value().payload);
  if (!reply)
    co_return key_failure(key_error::unreachable, "the key custodian at " + s->where() +
                                                      " answered with a malformed reply: " + reply.error().message());
  co_return judge(*s, asked, std::move(reply).value());
}

task<> wake(context& ctx, std::vector<address> waiters) {
  for (auto& waiter : waiters) {
    route to{std::move(waiter)};  // named: g++ 12 mishandles braced temporaries inside co_await
    bytes nothing;
    (void)co_await ctx.send(std::move(to), std::move(nothing));  // a waiter that gave up is gone: fine
  }
}

// The first ask for `which` makes the request; those that come while it is under way wait for it.
task<result_or_failure<fetched>> ask(std::shared_ptr<client_state> s, std::string which, custodian_request asked) {
  std::shared_ptr<flight> f;
  bool first = false;
  {
    std::lock_guard lock(s->mutex);
    auto& slot = s->flights[which];
    if (!slot) {
      slot = std::make_shared<flight>();
      first = true;
    }
    f = slot;
  }
  if (first) {
    auto got = co_await request_once(s, std::move(asked));
    std::vector<address> waiters;
    {
      std::lock_guard lock(s->mutex);
      f->outcome = got;
      waiters.swap(f->waiters);
      s->flights.erase(which);
    }
    context waker = s->ctx.new_detached("kafka_keys.wake.");
    co_await wake(waker, std::move(waiters));
    co_return got;
  }
  context waiter = s->ctx.new_detached("kafka_keys.wait.");
  {
    std::lock_guard lock(s->mutex);
    if (f->outcome) co_return *f->outcome;
    f->waiters.push_back(waiter.address());
    ++s->waiting;
  }
  // The request it waits for may first make a secure channel (its own handshake timeout).
  (void)co_await waiter.receive_message(3 * s->options.timeout);
  std::lock_guard lock(s->mutex);
  --s->waiting;
  if (f->outcome) co_return *f->outcome;
  co_return key_failure(key_error::unreachable, "the key custodian at " + s->where() + " did not answer in time");
}

void remember(client_state& s, const fetched& got) {
  std::lock_guard lock(s.mutex);
  if (s.by_name.size() >= s.options.max_cached_keys && !s.by_name.contains(got.key->name)) {
    auto oldest = std::min_element(s.by_name.begin(), s.by_name.end(),
                                   [](const auto& a, const auto& b) { return a.second.born < b.second.born; });
    s.by_name.erase(oldest);
  }
  s.by_name[got.key->name] = fetched{got.key, s.now()};
}

}  // namespace

custodian_client::custodian_client(std::shared_ptr<state> s) : state_(std::move(s)) {}
custodian_client::~custodian_client() = default;

std::shared_ptr<custodian_client> custodian_client::create(context ctx, custodian_client_options o) {
  return std::shared_ptr<custodian_client>(new custodian_client(std::make_shared<state>(std::move(ctx), std::move(o))));
}

custodian_client_stats custodian_client::stats() const {
  std::lock_guard lock(state_->mutex);
  return {state_->requests, state_->waiting};
}

task<result_or_failure<shared_key>> custodian_client::key_for_producing(std::string topic) {
  auto s = state_;
  std::optional<fetched> have;
  {
    std::lock_guard lock(s->mutex);
    if (auto it = s->producing.find(topic); it != s->producing.end()) have = it->second;
  }
  const auto now = s->now();
  if (have && now - have->born < have->key->timing.rotation) co_return have->key;
  custodian_request asked{.op = custodian_op::key_for_producing, .topic = topic};
  std::string which = "producing " + topic;
  auto got = co_await ask(s, std::move(which), std::move(asked));
  if (got) {
    remember(*s, got.value());
    std::lock_guard lock(s->mutex);
    s->producing[topic] = got.value();
    co_return got.value().key;
  }
  // Only an unreachable custodian is bridged by the key in hand; a refusal stops producing.
  if (!have || got.error().code != key_error::unreachable) co_return got.error();
  if (now - have->born < have->key->timing.validity) {
    s->ctx.log().warn("kafka keys: {}; sealing topic '{}' with key {} until its validity ends", got.error().message(),
                      topic, to_hex(have->key->name));
    co_return have->key;
  }
  co_return key_failure(key_error::expired, "the key of topic '" + topic + "' is past its validity (" +
                                                seconds_text(have->key->timing.validity) +
                                                ") and no new one could be had: " + got.error().message());
}

task<result_or_failure<shared_key>> custodian_client::key_by_name(key_name name) {
  auto s = state_;
  std::optional<fetched> have;
  {
    std::lock_guard lock(s->mutex);
    if (auto it = s->by_name.find(name); it != s->by_name.end()) have = it->second;
  }
  // Asked again after a rekey period (at most its validity), so that a deletion at the custodian
  // reaches a running consumer within that time (one request per key and period).
  if (have) {
    const auto fresh_for = std::min(have->key->timing.rekey, have->key->timing.validity);
    if (s->now() - have->born < fresh_for) co_return have->key;
  }
  custodian_request asked{.op = custodian_op::key_by_name, .name = name};
  std::string which = "name " + to_hex(name);
  auto got = co_await ask(s, std::move(which), std::move(asked));
  if (got) {
    remember(*s, got.value());
    co_return got.value().key;
  }
  if (have && got.error().code == key_error::unreachable) co_return have->key;
  co_return got.error();
}

}  // namespace nodus::kafka_crypto
