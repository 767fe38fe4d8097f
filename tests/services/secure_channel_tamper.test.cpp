// An intermediary that flips bits, replays, reorders and drops: what each end notices.

#include <doctest/doctest.h>

#include <atomic>

#include "secure_channel_fixture.hpp"

using namespace nodus;
using namespace std::chrono_literals;
using test::secure_channel_fixture;
using test::tap;
namespace sc = nodus::secure_channel;

namespace {

address decryptor_of(const sc::channel& c) { return c.frames_address(); }

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::size_t channel_workers(node& n) {
  std::size_t count = 0;
  for (const auto& w : n.list_workers())
    if (w.addresses.front().value().starts_with("sc.") && !w.addresses.front().value().starts_with("sc.wait.")) ++count;
  return count;
}

// Where the tests' messages to Bob's echoer get their replies: a worker that lives for the whole
// test and drops them. A reply to a context that is gone would be answered with a delivery-error
// notice, back through the channel, and change the counts the tests check.
class sink final : public raw_worker {
public:
  task<result<>> handle_message(context&, local_message) override { co_return ok(); }
};

/// Alice's channel to Bob through the tap, and Bob's end of it.
struct established {
  explicit established(secure_channel_fixture& f, sc::options alice_options, sc::options bob_options) {
    REQUIRE(f.n.start_worker("sink", sink{}));
    auto l = f.listen(bob_options);
    REQUIRE(l);
    auto ch = f.connect(alice_options);
    REQUIRE_MESSAGE(ch, ch.error().message());
    REQUIRE(test::eventually([&] { return l.value().channels().size() == 1; }));
    alice.emplace(ch.value());
    bob.emplace(l.value().channels().front());
  }
  std::optional<sc::channel> alice, bob;
};

/// Sends `count` messages from Alice to Bob's echoer while the tap holds every frame on its way
/// to Bob; returns the held frames in sequence order.
std::vector<local_message> send_and_hold(secure_channel_fixture& f, const established& e, int count) {
  const auto bob_in = decryptor_of(*e.bob);
  f.relay->set([bob_in](local_message& m) {
    return m.onward_route.next() == bob_in ? tap::action::hold : tap::action::forward;
  });
  for (int i = 0; i < count; ++i)
    REQUIRE(f.n.block_on([&](context& ctx) {
      return ctx.send_from("sink", route{e.alice->address(), "echoer"}, std::to_string(i));
    }));
  REQUIRE(test::eventually([&] { return f.relay->held() == static_cast<std::size_t>(count); }));
  f.relay->set(nullptr);
  return f.relay->take_held();
}

void inject(secure_channel_fixture& f, local_message m) {
  REQUIRE(f.n.block_on([&](context& ctx) { return ctx.forward(m); }));
}

}  // namespace

TEST_CASE("every bit flip of every handshake message fails the handshake cleanly on both sides") {
  secure_channel_fixture f;
  auto l = f.listen(f.options_for(f.bob));
  REQUIRE(l);
  auto o = f.options_for(f.alice);

  // Learn the three messages' sizes from one clean handshake.
  std::vector<std::size_t> sizes;
  f.relay->set([&](local_message& m) {
    if (m.payload.size() >= 2 && m.payload[1] >= 1 && m.payload[1] <= 3) sizes.push_back(m.payload.size());
    return tap::action::forward;
  });
  REQUIRE(f.connect(o));
  REQUIRE(sizes.size() == 3);
  const auto baseline_workers = channel_workers(f.n);
  const auto baseline_failures = count_of(f.logs.text(), "handshake failed");

  int attempts = 0, timeouts = 0;
  for (int message = 0; message < 3; ++message) {
    // Bits of the Noise message itself (the two frame-header bytes are covered below).
    const std::size_t bits = (sizes[message] - 2) * 8;
    for (std::size_t bit = 0; bit < bits; ++bit) {
      f.relay->set([message, bit](local_message& m) {
        if (m.payload.size() >= 2 && m.payload[1] == message + 1)
          m.payload[2 + bit / 8] ^= std::uint8_t(1u << (bit % 8));
        return tap::action::forward;
      });
      auto ch = f.connect(o);
      ++attempts;
      REQUIRE_MESSAGE(!ch, "message ", message + 1, " bit ", bit, " went unnoticed");
      if (ch.error().code == condition::timeout) ++timeouts;
    }
  }
  MESSAGE("handshakes with one flipped bit: ", attempts, ", of which timed out: ", timeouts);
  CHECK(timeouts == 0);                     // each failure was detected and told to the other side at once
  CHECK(l.value().channels().size() == 1);  // only the clean one
  // Both ends of every broken handshake logged it and went away.
  CHECK(test::eventually([&] { return channel_workers(f.n) == baseline_workers; }, 10s));
  CHECK(test::eventually(
      [&] {
        return count_of(f.logs.text(), "handshake failed") - baseline_failures ==
               2 * static_cast<std::size_t>(attempts);
      },
      10s));

  // A flipped frame-header byte makes the frame unreadable: dropped, and the handshake times out.
  f.relay->set([](local_message& m) {
    if (m.payload.size() >= 2 && m.payload[1] == 2) m.payload[1] ^= 0x40;
    return tap::action::forward;
  });
  o.handshake_timeout = 300ms;
  auto broken_header = f.connect(o);
  REQUIRE_FALSE(broken_header);
  CHECK(broken_header.error().code == condition::timeout);
}

TEST_CASE("every bit flip of a transport message is rejected and later good messages still arrive") {
  secure_channel_fixture f;
  established e(f, f.options_for(f.alice), f.options_for(f.bob));
  auto held = send_and_hold(f, e, 1);
  const auto original = held.front();
  const std::size_t bits = original.payload.size() * 8;
  for (std::size_t bit = 0; bit < bits; ++bit) {
    auto flipped = original;
    flipped.payload[bit / 8] ^= std::uint8_t(1u << (bit % 8));
    inject(f, std::move(flipped));
  }
  REQUIRE(test::eventually([&] {
    auto s = e.bob->stats();
    return s.rejected + s.duplicates_dropped == bits;
  }));
  CHECK(e.bob->stats().delivered == 0);
  MESSAGE("flipped transport-message bits rejected: ", bits);

  inject(f, original);  // the genuine message, after all the forgeries
  CHECK(test::eventually([&] { return e.bob->stats().delivered == 1; }));
  CHECK(f.echo(*e.alice, "later").value() == "later");
  CHECK(e.bob->stats().missing == 0);
}

TEST_CASE("replayed messages are dropped; messages reordered inside the window are delivered once each") {
  secure_channel_fixture f;
  established e(f, f.options_for(f.alice), f.options_for(f.bob));
  auto held = send_and_hold(f, e, 5);
  for (int i : {4, 2, 0, 1, 3}) inject(f, held[i]);
  REQUIRE(test::eventually([&] { return e.bob->stats().delivered == 5; }));
  CHECK(e.bob->stats().missing == 0);

  for (const auto& m : held) inject(f, m);  // the intermediary replays everything
  REQUIRE(test::eventually([&] { return e.bob->stats().duplicates_dropped == 5; }));
  CHECK(e.bob->stats().delivered == 5);

  // Far older than the window: rejected as a replay, not delivered.
  const auto rejected_before = e.bob->stats().rejected;
  // The default window is 1024: move it past held[0] by sending more than that.
  for (int i = 0; i < 1170; ++i)
    REQUIRE(f.n.block_on([&](context& ctx) {
      return ctx.send_from("sink", route{e.alice->address(), "echoer"}, std::string("x"));
    }));
  REQUIRE(test::eventually([&] { return e.bob->stats().delivered == 1175; }));
  inject(f, held[0]);
  CHECK(test::eventually([&] { return e.bob->stats().rejected == rejected_before + 1; }));
  CHECK(e.bob->stats().delivered == 1175);
  CHECK(f.logs.eventually_contains("older than the replay window"));
}

TEST_CASE("a message the intermediary never delivers is reported as a gap") {
  secure_channel_fixture f;
  established e(f, f.options_for(f.alice), f.options_for(f.bob));
  auto held = send_and_hold(f, e, 3);
  inject(f, held[0]);
  inject(f, held[2]);  // held[1] is dropped
  REQUIRE(test::eventually([&] { return e.bob->stats().delivered == 2; }));
  CHECK(e.bob->stats().missing == 1);
  CHECK(f.logs.eventually_contains("gap: 1 message(s) before message 2"));

  // If it turns up after all (late, not lost), it is delivered and no longer missing.
  inject(f, held[1]);
  REQUIRE(test::eventually([&] { return e.bob->stats().delivered == 3; }));
  CHECK(e.bob->stats().missing == 0);
}

TEST_CASE("rekeying every few messages: traffic flows both ways, reordering across a rekey is accepted") {
  secure_channel_fixture f;
  auto alice_options = f.options_for(f.alice);
  auto bob_options = f.options_for(f.bob);
  alice_options.rekey_interval = 3;
  bob_options.rekey_interval = 3;
  established e(f, alice_options, bob_options);
  for (int i = 0; i < 20; ++i) REQUIRE(f.echo(*e.alice, "m" + std::to_string(i)).value() == "m" + std::to_string(i));

  // Sequence numbers 20..25 span epochs 6, 7 and 8; deliver a later epoch before an earlier one.
  auto held = send_and_hold(f, e, 6);
  for (int i : {1, 0, 3, 2, 5, 4}) inject(f, held[i]);
  REQUIRE(test::eventually([&] { return e.bob->stats().delivered == 26; }));
  CHECK(e.bob->stats().rejected == 0);
  CHECK(f.echo(*e.alice, "after").value() == "after");
}

TEST_CASE("malformed frames sent to a channel end are dropped without harming the channel") {
  secure_channel_fixture f;
  established e(f, f.options_for(f.alice), f.options_for(f.bob));
  const auto bob_in = decryptor_of(*e.bob);
  std::vector<bytes> junk{
      {},        {1},    {2, 4},          {1, 4, 0, 0}, {1, 4, 0, 0, 0, 0, 0, 0, 0, 9}, {1, 5, 'n', 'o'},
      {1, 1, 0}, {1, 9}, bytes(100, 0xff)};
  for (auto& j : junk) {
    local_message m{route{bob_in}, route{"nobody"}, j, {}};
    inject(f, std::move(m));
  }
  REQUIRE(test::eventually([&] { return e.bob->stats().rejected >= junk.size() - 1; }));
  CHECK(e.bob->open());
  CHECK(f.echo(*e.alice, "unharmed").value() == "unharmed");
}
