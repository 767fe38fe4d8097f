// The stream client against a fake hub (tests/support/fake_stream_service.hpp): Alice and Bob
// paired as in the Rust guide, order, retries and what they leave in the stream, resuming from
// the saved index, forced redelivery, back-pressure, an idle client, and a hub behind TCP that
// restarts.
//
// At least once, as the fake shows it: a push whose confirmation was lost (or that timed out)
// is pushed again, so the stream may hold a message twice, always right after itself. The
// receiver delivers each stream entry once per run; after a restart it delivers again what
// came after the last saved index.

#include "nodus/stream/client.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fake_stream_service.hpp"
#include "nodus/core/transport_message.hpp"
#include "secure_channel_fixture.hpp"
#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;
using namespace std::chrono_literals;
using op = fake_stream_service::op;

namespace {

/// What a recorder received: bodies and return routes, in arrival order.
struct inbox {
  mutable std::mutex m;
  std::vector<std::string> bodies;
  std::vector<route> returns;

  std::size_t size() const {
    std::lock_guard lock(m);
    return bodies.size();
  }
  std::vector<std::string> all() const {
    std::lock_guard lock(m);
    return bodies;
  }
  std::set<std::string> distinct() const {
    std::lock_guard lock(m);
    return {bodies.begin(), bodies.end()};
  }
  route return_route(std::size_t i) const {
    std::lock_guard lock(m);
    return returns.at(i);
  }
};

/// Records every string it receives; with `echo`, sends it back along the return route.
class recorder final : public worker<std::string> {
public:
  recorder(std::shared_ptr<inbox> box, bool echo) : box_(std::move(box)), echo_(echo) {}

  task<result<>> handle_message(context& ctx, routed<std::string> message) override {
    {
      std::lock_guard lock(box_->m);
      box_->bodies.push_back(message.body());
      box_->returns.push_back(message.return_route());
    }
    if (!echo_) co_return ok();
    co_return co_await ctx.send(message.return_route(), message.body());
  }

private:
  std::shared_ptr<inbox> box_;
  bool echo_;
};

std::vector<std::string> numbers(int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) out.push_back(std::to_string(i));
  return out;
}

/// `seen` without what it had seen already: what a push sent again leaves is a run of messages
/// the stream holds already (a push_batch whose confirmation was lost, pushed again).
std::vector<std::string> first_arrivals(const std::vector<std::string>& seen) {
  std::vector<std::string> out;
  std::set<std::string> before;
  for (const auto& s : seen)
    if (before.insert(s).second) out.push_back(s);
  return out;
}

/// The bodies (msgpack strings) of the transport messages a stream holds.
std::vector<std::string> bodies_in(const std::vector<bytes>& stream) {
  std::vector<std::string> out;
  for (const auto& data : stream) {
    auto wire = decode_transport_message(byte_view(data));
    REQUIRE(wire);
    out.push_back(message_codec<std::string>::decode(wire.value().payload).value());
  }
  return out;
}

task<result<>> send_numbers(context& ctx, address from, route to, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    const auto body = std::to_string(i);
    if (auto sent = co_await ctx.send_from(from, to, body); !sent) co_return sent.error();
  }
  co_return ok();
}

/// One node with the fake hub services, and helpers to connect clients and send through them.
struct fixture {
  log_capture logs;
  node n = node::create({.name = "test", .threads = 2, .logger = logs.logger()});
  fake_stream_service hub{n};

  /// Options for tests: short waits so retries happen within a test's time.
  static stream::client_options options(std::string client_id, duration poll_wait = 200ms) {
    return {.client_id = std::move(client_id),
            .poll_wait = poll_wait,
            .reply_timeout = 1s,
            .retry_backoff = 10ms,
            .max_retry_backoff = 200ms,
            .connect_timeout = 5s,
            // What the tests deliver to through the streams (Bob's side); the rest is reachable
            // only as replies to what was sent.
            .expose = {"echoer", "collector", "listener"}};
  }
  result_or_failure<stream::connected_stream> connect(std::string sender, std::string receiver,
                                                      stream::client_options o, route to_hub = {}) {
    return n.block_on([&](context& ctx) { return stream::connect_stream(ctx, to_hub, sender, receiver, o); });
  }
  /// Bob as in the guide, and Alice with the two names swapped.
  stream::connected_stream bob(stream::client_options o = options("bob")) {
    auto s = connect("bob-to-alice", "alice-to-bob", std::move(o));
    REQUIRE_MESSAGE(s, s.error().message());
    return s.value();
  }
  stream::connected_stream alice(stream::client_options o = options("alice")) {
    auto s = connect("alice-to-bob", "bob-to-alice", std::move(o));
    REQUIRE_MESSAGE(s, s.error().message());
    return s.value();
  }
  void disconnect(const stream::connected_stream& s) {
    REQUIRE(n.block_on([&](context& ctx) { return stream::disconnect_stream(ctx, s); }));
  }
  std::shared_ptr<inbox> start_recorder(const char* at, bool echo = false) {
    auto box = std::make_shared<inbox>();
    REQUIRE(n.start_worker(at, recorder(box, echo)));
    return box;
  }
  /// Sends "first".."first+count-1" to `to` with `from` as the return route.
  void send(address from, route to, int first, int count) {
    auto sent = n.block_on([&](context& ctx) { return send_numbers(ctx, from, to, first, count); });
    REQUIRE_MESSAGE(sent, sent.error().message());
  }
};

}  // namespace

TEST_CASE("Alice and Bob: each message reaches the echoer once and the echo comes back through Bob's sender") {
  fixture f;
  auto echoed = f.start_recorder("echoer", /*echo=*/true);  // on Bob's side
  auto alice_inbox = f.start_recorder("alice_inbox");
  auto bob = f.bob();
  auto alice = f.alice();

  f.send("alice_inbox", route{alice.sender(), "echoer"}, 0, 50);
  REQUIRE(eventually([&] { return alice_inbox->size() == 50; }, 30s));
  // Both receivers have saved their index past everything: nothing more can arrive.
  REQUIRE(eventually([&] { return bob.status().saved_index == 50 && alice.status().saved_index == 50; }, 10s));
  CHECK(echoed->all() == numbers(0, 50));
  CHECK(alice_inbox->all() == numbers(0, 50));

  // Bob's echoer saw Bob's sender first on the return route, then Alice's return route.
  CHECK(echoed->return_route(0) == route{bob.sender(), "alice_inbox"});
  CHECK(alice_inbox->return_route(0) == route{alice.sender(), "echoer"});

  // Each stream holds the transport messages: the route beyond the sender, the return route.
  const auto to_bob = f.hub.messages("alice-to-bob");
  REQUIRE(to_bob.size() == 50);
  auto first = decode_transport_message(byte_view(to_bob.front()));
  REQUIRE(first);
  CHECK(first.value().onward_route == route{"echoer"});
  CHECK(first.value().return_route == route{"alice_inbox"});
  CHECK(bodies_in(f.hub.messages("bob-to-alice")) == numbers(0, 50));

  const auto a = alice.status();
  CHECK(a.connected());
  CHECK(a.pushed == 50);
  CHECK(a.confirmed == 50);
  CHECK(a.retries == 0);
  CHECK(a.delivered == 50);
  CHECK(bob.status().delivered == 50);
  CHECK(f.hub.saved_index("alice-to-bob", "bob") == 50);
  CHECK(alice.sender_name() == "alice-to-bob");
  CHECK(alice.receiver_name() == "bob-to-alice");
}

TEST_CASE("1000 messages arrive in order") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto bob = f.bob();
  auto alice = f.alice();
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 1000);
  REQUIRE(eventually([&] { return got->size() >= 1000; }, 60s));
  REQUIRE(eventually([&] { return bob.status().saved_index == 1000; }, 10s));
  CHECK(got->all() == numbers(0, 1000));
  CHECK(bodies_in(f.hub.messages("alice-to-bob")) == numbers(0, 1000));
}

TEST_CASE("what waits while a push travels goes in one push_batch: fewer pushes than messages, in order") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto bob = f.bob();
  auto alice = f.alice();
  f.hub.delay_replies(std::chrono::milliseconds(20));  // each confirmation takes a while
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 300);
  REQUIRE(eventually([&] { return got->distinct().size() == 300 && alice.status().confirmed == 300; }, 30s));
  CHECK(got->all() == numbers(0, 300));
  CHECK(f.hub.batches() >= 1);
  CHECK(f.hub.requests(op::push) < 100);  // 300 messages at 20 ms a confirmation: batches
}

TEST_CASE("an older hub that takes no push_batch gets one message per push, all in order") {
  fixture f;
  f.hub.take_batches(false);
  auto got = f.start_recorder("collector");
  auto bob = f.bob();
  auto alice = f.alice();
  f.hub.delay_replies(std::chrono::milliseconds(5));
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 50);
  REQUIRE(eventually([&] { return got->distinct().size() == 50 && alice.status().confirmed == 50; }, 30s));
  CHECK(got->all() == numbers(0, 50));
  CHECK(f.hub.batches() == 0);
  CHECK(alice.status().rejected == 0);
}

TEST_CASE("lost confirmations and Kafka outages cause retries; every message arrives, in order") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto bob = f.bob();
  auto alice = f.alice();
  f.hub.drop_replies(op::push, 3);  // stored, but the sender never hears of it
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 20);
  REQUIRE(eventually([&] { return alice.status().confirmed == 20; }, 30s));
  f.hub.fail_next(op::push, 4);  // kafka_unavailable: not stored
  f.hub.fail_next(op::pull, 3);
  f.hub.drop_replies(op::pull, 1);
  f.hub.fail_next(op::save_index, 2);
  f.send("alice_inbox", route{alice.sender(), "collector"}, 20, 80);

  REQUIRE(eventually([&] { return got->distinct().size() == 100; }, 60s));
  REQUIRE(eventually([&] { return bob.status().saved_index == bob.status().index && alice.status().confirmed == 100; },
                     20s));
  // At least once: the stream holds each message, in order, and a lost confirmation's push
  // (at most the 20 of the first round) twice; the receiver delivered what the stream holds.
  const auto stream = bodies_in(f.hub.messages("alice-to-bob"));
  CHECK(first_arrivals(stream) == numbers(0, 100));
  CHECK(stream.size() <= 100 + 3 * 20);
  CHECK(got->all() == stream);

  // Pull failures hit whichever receiver pulled next; saves are Bob's (only he delivered).
  const auto a = alice.status();
  CHECK(a.pushed == 100);
  CHECK(a.confirmed == 100);
  CHECK(eventually([&] { return alice.status().retries + bob.status().retries >= 3 + 4 + 3 + 1 + 2; }, 10s));
  CHECK(eventually([&] { return alice.status().connected() && bob.status().connected(); }, 10s));
  // Each run of failures is logged once when it starts and once when it ends, not per retry.
  const auto text = f.logs.text();
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  CHECK(count("stream client 'alice': pushing onto 'alice-to-bob' at stream_kafka failed (") <= 2);
  CHECK(count("stream client 'alice': pushing onto 'alice-to-bob' at stream_kafka failed again") >= 3 + 4 - 2);
  CHECK(count("stream client 'alice': pushing onto 'alice-to-bob' at stream_kafka works again") >= 1);
  CHECK(count("stream client 'alice': pushing onto 'alice-to-bob' at stream_kafka works again") <= 2);
}

TEST_CASE("messages sent while the hub is away are delivered when it comes back") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto bob = f.bob();
  auto alice = f.alice();
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 10);
  REQUIRE(eventually([&] { return got->size() == 10; }, 30s));

  f.hub.stop();
  f.send("alice_inbox", route{alice.sender(), "collector"}, 10, 20);  // buffered by the sender
  REQUIRE(eventually([&] { return alice.status().sender == stream::stream_status::state::retrying; }, 10s));
  CHECK(eventually([&] { return bob.status().receiver == stream::stream_status::state::retrying; }, 10s));
  CHECK(alice.status().last_error.find(": no worker at that address") != std::string::npos);
  f.hub.start();

  REQUIRE(eventually([&] { return got->size() >= 30; }, 30s));
  REQUIRE(eventually([&] { return bob.status().saved_index == bob.status().index; }, 10s));
  CHECK(first_arrivals(got->all()) == numbers(0, 30));
  CHECK(eventually([&] { return alice.status().connected() && bob.status().connected(); }, 10s));
  CHECK(f.logs.eventually_contains("stream client 'alice': pushing onto 'alice-to-bob' at stream_kafka works again"));
}

TEST_CASE("a hub that comes back with an empty broker: the streams are created again, reading starts from 0") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto bob = f.bob();
  auto alice = f.alice();
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 10);
  REQUIRE(eventually([&] { return bob.status().saved_index == 10; }, 30s));

  f.hub.stop();
  f.hub.forget_everything();
  REQUIRE(eventually([&] { return bob.status().receiver == stream::stream_status::state::retrying; }, 10s));
  f.hub.start();
  f.send("alice_inbox", route{alice.sender(), "collector"}, 10, 10);
  REQUIRE(eventually([&] { return got->size() >= 20; }, 30s));
  REQUIRE(eventually([&] { return bob.status().saved_index == 10 && bob.status().connected(); }, 10s));
  CHECK(first_arrivals(got->all()) == numbers(0, 20));
  CHECK(bodies_in(f.hub.messages("alice-to-bob")) == numbers(10, 10));
  CHECK(f.logs.eventually_contains("stream client 'bob': 'alice-to-bob' continues from the saved index 0 (was at 10)"));
}

TEST_CASE("a receiver that restarts resumes from the saved index") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto alice = f.alice();
  auto bob = f.bob();
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 30);
  REQUIRE(eventually([&] { return bob.status().saved_index == 30; }, 30s));
  f.disconnect(bob);
  CHECK(bob.status().receiver == stream::stream_status::state::stopped);

  f.send("alice_inbox", route{alice.sender(), "collector"}, 30, 30);  // while Bob is away
  REQUIRE(eventually([&] { return alice.status().confirmed == 60; }, 30s));
  auto again = f.bob();  // the same names and client id
  CHECK(f.logs.eventually_contains(fmt::format("receiver '{}' pulls 'alice-to-bob' from 30", again.receiver())));
  REQUIRE(eventually([&] { return again.status().saved_index == 60; }, 30s));
  CHECK(got->all() == numbers(0, 60));  // nothing lost, nothing twice

  // Stopped in the middle of a burst, it loses nothing: what came after the last saved index
  // comes again.
  f.send("alice_inbox", route{alice.sender(), "collector"}, 60, 300);
  REQUIRE(eventually([&] { return got->size() >= 100; }, 30s));
  f.disconnect(again);
  auto third = f.bob();
  REQUIRE(eventually([&] { return third.status().saved_index == 360; }, 60s));
  const auto all = numbers(0, 360);
  CHECK(got->distinct() == std::set<std::string>(all.begin(), all.end()));
  CHECK(got->size() >= 360);
}

TEST_CASE("resetting a saved index backwards redelivers from there") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto alice = f.alice();
  auto bob = f.bob();
  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 50);
  REQUIRE(eventually([&] { return bob.status().saved_index == 50; }, 30s));
  f.disconnect(bob);
  f.hub.set_index("alice-to-bob", "bob", 10);
  auto again = f.bob();
  REQUIRE(eventually([&] { return got->size() == 90; }, 30s));
  REQUIRE(eventually([&] { return again.status().saved_index == 50; }, 10s));
  auto expected = numbers(0, 50);
  const auto redelivered = numbers(10, 40);
  expected.insert(expected.end(), redelivered.begin(), redelivered.end());
  CHECK(got->all() == expected);
}

TEST_CASE("a full buffer makes senders wait while the hub is away, and nothing is lost") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto o = fixture::options("alice");
  o.buffer_capacity = 4;
  auto alice = f.alice(o);
  auto bob = f.bob();
  f.hub.stop();
  std::atomic<bool> done{false};
  std::thread sender([&] {
    f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 20);
    done = true;
  });
  // One push being tried (what waited when it left: 1 to 4 messages), four waiting in the
  // mailbox, the sending thread held back.
  auto queued = [&] {
    for (const auto& w : f.n.list_workers())
      if (w.addresses.front() == alice.sender()) return w.queued;
    return std::size_t{0};
  };
  CHECK(eventually(
      [&] {
        const auto pushed = alice.status().pushed;
        return queued() == 4 && pushed >= 1 && pushed <= 4;
      },
      10s));
  CHECK_FALSE(done.load());  // the hub is still away: the sender cannot have taken all 20
  f.hub.start();
  sender.join();
  REQUIRE(eventually([&] { return bob.status().saved_index >= 20 && alice.status().confirmed == 20; }, 30s));
  CHECK(first_arrivals(got->all()) == numbers(0, 20));
}

TEST_CASE("an idle client waits at the hub instead of polling") {
  fixture f;
  auto alice = f.alice(fixture::options("alice", 10s));
  auto bob = f.bob(fixture::options("bob", 10s));
  REQUIRE(eventually([&] { return f.hub.requests(op::pull) >= 2; }));  // both receivers wait
  const auto before = f.hub.requests(op::pull);
  std::this_thread::sleep_for(1s);  // a window to count in: the held pulls last 10 s
  CHECK(f.hub.requests(op::pull) - before <= 2);
  CHECK(f.hub.requests(op::push) == 0);
  CHECK(alice.status().pulls <= 2);
  CHECK(bob.status().connected());
}

TEST_CASE("a hub that answers empty pulls at once is not polled in a busy loop") {
  fixture f;
  f.hub.hold_pulls(false);
  auto alice = f.alice(fixture::options("alice", 10s));
  auto bob = f.bob(fixture::options("bob", 10s));
  REQUIRE(eventually([&] { return f.hub.requests(op::pull) >= 2; }));
  const auto before = f.hub.requests(op::pull);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1s);  // a window to count in, not a wait for something
  const auto pulls = f.hub.requests(op::pull) - before;
  // At most ten a second each, over the time that really passed (longer on a loaded machine).
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(static_cast<double>(pulls) <= 2 * (10 * seconds + 1));
  CHECK(alice.status().connected());
  CHECK(bob.status().connected());
}

TEST_CASE("ask_readers: whether anyone reads the stream a client pushes to, and how far") {
  fixture f;
  auto got = f.start_recorder("collector");
  auto alice = f.alice();
  auto ask = [&] { return f.n.block_on([&](context& ctx) { return stream::ask_readers(ctx, alice); }); };
  // Bob is not there: nobody has pulled 'alice-to-bob'.
  auto nobody = ask();
  REQUIRE_MESSAGE(nobody, nobody.error().message());
  CHECK_FALSE(nobody.value().active(10s));
  CHECK_FALSE(nobody.value().since_last_pull);
  CHECK(nobody.value().read_to == -1);
  CHECK(alice.status().confirmed_index == -1);

  f.send("alice_inbox", route{alice.sender(), "collector"}, 0, 3);
  REQUIRE(eventually([&] { return alice.status().confirmed == 3; }, 10s));
  CHECK(alice.status().confirmed_index == 2);  // the index the hub gave the last push
  CHECK_FALSE(ask().value().has_read(2));

  // Bob comes, takes the three messages and pulls on from 3.
  auto bob = f.bob();
  REQUIRE(eventually([&] { return got->size() == 3; }, 10s));
  CHECK(eventually(
      [&] {
        auto r = ask();
        return r && r.value().active(10s) && r.value().has_read(2) && r.value().read_to == 3;
      },
      10s));
  CHECK(ask().value().since_last_pull);

  // A hub that does not know the request (an older one) says bad_request: not_supported, in words.
  f.hub.fail_next(op::readers, 1, stream::stream_errc::bad_request);
  auto older = ask();
  REQUIRE_FALSE(older);
  CHECK(older.error().code == errc::not_supported);
  CHECK(older.error().message().find("asking stream_kafka who reads 'alice-to-bob': the hub does not tell") !=
        std::string::npos);
  // A hub that is not there: the route's error.
  f.hub.stop();
  auto away = ask();
  REQUIRE_FALSE(away);
  CHECK(away.error().code == condition::not_found);
  f.hub.start();
}

TEST_CASE("connect_stream says clearly why it cannot connect") {
  fixture f;
  auto bad = f.connect("no spaces", "fine", fixture::options("bob"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == condition::invalid_argument);
  CHECK(bad.error().message().find("'no spaces' is not a valid stream name") != std::string::npos);

  auto o = fixture::options("bob");
  o.connect_timeout = 300ms;
  auto nowhere = f.connect("a", "b", o, route{"no_hub_here"});
  REQUIRE_FALSE(nowhere);
  CHECK(nowhere.error().code == condition::not_found);
  CHECK(nowhere.error().message().find("creating stream 'a' at no_hub_here => stream_kafka") != std::string::npos);

  f.hub.fail_next(op::create, 1, stream::stream_errc::bad_request);
  auto refused = f.connect("a", "b", fixture::options("bob"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("the hub says bad_request") != std::string::npos);

  f.hub.fail_next(op::get_index, 2);  // Kafka away for a moment: connect retries
  auto retried = f.connect("a", "b", fixture::options("bob"));
  CHECK_MESSAGE(retried, retried.error().message());
}

TEST_CASE("through a hub behind TCP that restarts, nothing is lost") {
  const std::vector<address> hub_services{"stream_kafka", "stream_kafka_index"};
  tcp_options quick{.reconnect_backoff = 20ms, .max_reconnect_backoff = 200ms};
  std::optional<tcp_node> hub_node;
  hub_node.emplace(restartable_address(), quick, /*with_echoer=*/false, hub_services);
  const auto at = hub_node->bound;
  std::optional<fake_stream_service> services;
  services.emplace(hub_node->n);
  const auto state = services->state();

  tcp_node bob_node({}, quick, /*with_echoer=*/true);
  tcp_node alice_node({}, quick, /*with_echoer=*/false);
  auto alice_inbox = std::make_shared<inbox>();
  REQUIRE(alice_node.n.start_worker("alice_inbox", recorder(alice_inbox, false)));
  auto connect = [&](node& n, std::string sender, std::string receiver, std::string id) {
    auto s = n.block_on([&](context& ctx) {
      return stream::connect_stream(ctx, route{tcp(at)}, sender, receiver, fixture::options(id));
    });
    REQUIRE_MESSAGE(s, s.error().message());
    return s.value();
  };
  auto bob = connect(bob_node.n, "bob-to-alice", "alice-to-bob", "bob");
  auto alice = connect(alice_node.n, "alice-to-bob", "bob-to-alice", "alice");
  auto send = [&](int first, int count) {
    auto sent = alice_node.n.block_on([&](context& ctx) {
      return send_numbers(ctx, "alice_inbox", route{alice.sender(), "echoer"}, first, count);
    });
    REQUIRE(sent);
  };
  send(0, 10);
  REQUIRE(eventually([&] { return alice_inbox->size() == 10; }, 30s));

  services.reset();
  hub_node.reset();  // the hub goes away, its connections with it
  send(10, 10);
  REQUIRE(eventually([&] { return alice.status().sender == stream::stream_status::state::retrying; }, 10s));
  hub_node.emplace(at, quick, /*with_echoer=*/false, hub_services);  // back on the same port, with the same streams
  services.emplace(hub_node->n, state);

  REQUIRE(eventually([&] { return alice_inbox->distinct().size() == 20; }, 60s));
  CHECK(first_arrivals(alice_inbox->all()) == numbers(0, 20));
  CHECK(eventually([&] { return alice.status().connected() && bob.status().connected(); }, 20s));
}

TEST_CASE("a secure channel through the streams: the application sees each message once despite duplicates") {
  secure_channel_fixture f;  // its echoer is Bob's
  fake_stream_service hub(f.n);
  auto connect = [&](std::string sender, std::string receiver, std::string id) {
    auto s = f.n.block_on(
        [&](context& ctx) { return stream::connect_stream(ctx, route{}, sender, receiver, fixture::options(id)); });
    REQUIRE_MESSAGE(s, s.error().message());
    return s.value();
  };
  auto bob = connect("bob-to-alice", "alice-to-bob", "bob");
  auto listener = f.listen(f.options_for(f.bob));
  REQUIRE(listener);
  auto alice = connect("alice-to-bob", "bob-to-alice", "alice");
  auto at_alice = f.options_for(f.alice);
  at_alice.handshake_timeout = 20s;
  auto channel = f.connect(at_alice, route{alice.sender(), "listener"});
  REQUIRE_MESSAGE(channel, channel.error().message());
  auto echo = [&](int i) {
    auto echoed = f.echo(channel.value(), "hello " + std::to_string(i), 20s);
    REQUIRE_MESSAGE(echoed, echoed.error().message());
    CHECK(echoed.value() == "hello " + std::to_string(i));
  };
  for (int i = 0; i < 10; ++i) echo(i);

  // Lost confirmations: the pushes are repeated, the streams hold duplicates, the channel drops them.
  auto in_streams = [&] { return hub.messages("alice-to-bob").size() + hub.messages("bob-to-alice").size(); };
  const auto before = in_streams();
  hub.drop_replies(op::push, 2);
  for (int i = 10; i < 15; ++i) echo(i);
  CHECK(in_streams() == before + 2 * 5 + 2);

  // A forced redelivery: both saved indexes moved back to 0 while the hub is away; the receivers
  // read them again when it is back and redeliver everything.
  hub.stop();
  REQUIRE(eventually([&] { return !alice.status().connected() && !bob.status().connected(); }, 20s));
  hub.set_index("alice-to-bob", "bob", 0);
  hub.set_index("bob-to-alice", "alice", 0);
  const auto delivered_before = bob.status().delivered;
  hub.start();
  REQUIRE(eventually([&] { return bob.status().delivered >= delivered_before + 15; }, 30s));
  for (int i = 15; i < 20; ++i) echo(i);

  REQUIRE(listener.value().channels().size() >= 1);
  const auto at_bob = listener.value().channels().front().stats();
  CHECK(at_bob.delivered == 20);  // each plaintext once, to the echoer
  CHECK(at_bob.duplicates_dropped >= 15);
  CHECK(channel.value().stats().delivered == 20);
  CHECK(channel.value().stats().missing == 0);
}
