#pragma once
// A key custodian on one node ("keeper", behind a secure channel listener reached over loopback
// TCP through a tap), and identities on another node ("remote") with a channel each and a
// custodian_client over it. Both sides share a clock the test moves.

#include <atomic>
#include <optional>

#include "nodus/kafka_crypto/custodian.hpp"
#include "nodus/kafka_crypto/custodian_client.hpp"
#include "nodus/transports/tcp.hpp"
#include "secure_channel_fixture.hpp"
#include "tcp_nodes.hpp"

namespace nodus::test {

namespace kc = nodus::kafka_crypto;

/// A clock that stands still until the test moves it.
struct test_clock {
  std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(1'700'000'000'000);
  kc::clock_fn fn() const {
    return [ms = ms] { return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms->load())); };
  }
  void advance(std::chrono::seconds s) { *ms += std::chrono::duration_cast<std::chrono::milliseconds>(s).count(); }
};

inline const kc::key_timing short_timing{
    .rotation = std::chrono::seconds(60), .rekey = std::chrono::seconds(10), .validity = std::chrono::seconds(120)};

inline sc::channel_identity fresh_identity() {
  return sc::channel_identity::create(vault::identity::create(vault::vault::create_in_memory()).value()).value();
}

inline task<result<>> start_custodian(context& ctx, std::shared_ptr<kc::key_custodian> c) {
  co_return co_await kc::start_custodian_worker(ctx, "kafka_custodian", std::move(c));
}

struct custodian_fixture {
  explicit custodian_fixture(kc::custodian_options o = {}) : keeper("127.0.0.1:0", {}, true, {"tap", "listener"}) {
    o.clock = clock.fn();
    if (!o.keys) o.keys = vault::vault::create_in_memory();
    if (o.timing == kc::key_timing{}) o.timing = short_timing;
    o.producers.push_back(producer.id());
    o.consumers.push_back(consumer.id());
    custodian = kc::key_custodian::open(std::move(o)).value();
    REQUIRE(keeper.n.block_on([&](context& ctx) { return start_custodian(ctx, custodian); }));
    tap = std::make_shared<test::tap>();
    REQUIRE(keeper.n.block_on([&](context& ctx) { return ctx.start_worker_ptr({"tap"}, tap); }));
    sc::options so{.identity = keeper_identity, .trust = sc::trust_policy::everyone()};
    so.expose = {"kafka_custodian"};
    REQUIRE(keeper.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", so); }));
  }

  /// A channel from `who` on the remote node to the keeper's listener, and a client over it.
  std::shared_ptr<kc::custodian_client> client_for(const sc::channel_identity& who) {
    sc::options o{.identity = who, .trust = sc::trust_policy::identifier(keeper_identity.id())};
    route to{tcp(keeper.bound), "tap", "listener"};
    auto ch = remote.n.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, to, o); });
    REQUIRE_MESSAGE(ch, ch.error().message());
    channels.push_back(ch.value());
    return kc::custodian_client::create(remote.n.create_context("kafka_keys."),
                                        {.to = route{ch.value().address(), "kafka_custodian"},
                                         .description = "keeper",
                                         .timeout = std::chrono::seconds(5),
                                         .clock = clock.fn()});
  }

  result_or_failure<kc::shared_key> produce_key(kc::custodian_client& c, std::string topic) {
    return remote.n.block_on([&](context&) { return c.key_for_producing(topic); });
  }
  result_or_failure<kc::shared_key> key_named(kc::custodian_client& c, kc::key_name name) {
    return remote.n.block_on([&](context&) { return c.key_by_name(name); });
  }

  test_clock clock;
  tcp_node keeper;
  tcp_node remote;
  sc::channel_identity keeper_identity = fresh_identity();
  sc::channel_identity producer = fresh_identity(), consumer = fresh_identity(), stranger = fresh_identity();
  std::shared_ptr<kc::key_custodian> custodian;
  std::shared_ptr<test::tap> tap;
  std::vector<sc::channel> channels;
};

inline bool same_bytes(const kc::data_key& a, const kc::data_key& b) {
  return std::equal(a.material.view().begin(), a.material.view().end(), b.material.view().begin(),
                    b.material.view().end());
}

}  // namespace nodus::test
