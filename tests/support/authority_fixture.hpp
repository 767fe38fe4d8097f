#pragma once
// An authority on one node ("keeper", behind a secure channel listener reached over loopback TCP
// through a tap), and identities on another node ("remote"), each with a channel of its own to
// it. Both sides share a clock the test moves.

#include <atomic>

#include "nodus/authority/authority.hpp"
#include "nodus/authority/client.hpp"
#include "nodus/transports/tcp.hpp"
#include "secure_channel_fixture.hpp"
#include "tcp_nodes.hpp"

namespace nodus::test {

namespace au = nodus::authority;

/// A clock that stands still until the test moves it.
struct authority_clock {
  std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(1'800'000'000'000);
  au::clock_fn fn() const {
    return [ms = ms] { return au::from_millis(ms->load()); };
  }
  au::time_point now() const { return au::from_millis(ms->load()); }
  void advance(std::chrono::seconds s) { *ms += std::chrono::duration_cast<std::chrono::milliseconds>(s).count(); }
};

inline sc::channel_identity new_channel_identity() {
  return sc::channel_identity::create(vault::identity::create(vault::vault::create_in_memory()).value()).value();
}

inline task<result<>> start_authority(context& ctx, std::shared_ptr<au::authority> a) {
  co_return co_await au::start_authority_worker(ctx, "authority", std::move(a));
}

inline task<result_or_failure<bytes>> enroll_task(context& ctx, route to, std::string secret) {
  co_return co_await au::enroll(ctx, std::move(to), std::move(secret), std::chrono::seconds(10));
}
inline task<result_or_failure<bytes>> refresh_task(context& ctx, route to) {
  co_return co_await au::refresh(ctx, std::move(to), std::chrono::seconds(10));
}
inline task<result_or_failure<std::string>> ticket_task(context& ctx, route to, au::ticket_spec spec) {
  co_return co_await au::request_ticket(ctx, std::move(to), std::move(spec), std::chrono::seconds(10));
}
inline task<result_or_failure<std::vector<au::member>>> members_task(context& ctx, route to) {
  co_return co_await au::list_members(ctx, std::move(to), std::chrono::seconds(10));
}
inline task<result_or_failure<bool>> delete_task(context& ctx, route to, std::string id) {
  co_return co_await au::delete_member(ctx, std::move(to), std::move(id), std::chrono::seconds(10));
}

struct authority_fixture {
  explicit authority_fixture(std::shared_ptr<au::member_store> store = nullptr)
      : keeper("127.0.0.1:0", {}, true, {"tap", "listener", "members"}) {
    au::authority_options o{.identity = authority_identity_raw,
                            .store = store ? store : au::member_store::in_memory(),
                            .admins = {admin.id()},
                            .clock = clock.fn()};
    project = au::authority::create(std::move(o)).value();
    REQUIRE(keeper.n.block_on([&](context& ctx) { return start_authority(ctx, project); }));
    tap = std::make_shared<test::tap>();
    REQUIRE(keeper.n.block_on([&](context& ctx) { return ctx.start_worker_ptr({"tap"}, tap); }));
    sc::options so{.identity = authority_identity, .trust = sc::trust_policy::everyone()};
    so.expose = {"authority"};
    REQUIRE(keeper.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "listener", so); }));
  }

  /// The route to the authority through a new channel from `who` on the remote node.
  route channel_for(const sc::channel_identity& who) {
    sc::options o{.identity = who, .trust = sc::trust_policy::identifier(authority_identity.id())};
    route to{tcp(keeper.bound), "tap", "listener"};
    auto ch = remote.n.block_on([&](context& ctx) { return sc::create_secure_channel(ctx, to, o); });
    REQUIRE_MESSAGE(ch, ch.error().message());
    channels.push_back(ch.value());
    return route{ch.value().address(), "authority"};
  }

  /// A ticket made by the authority itself (a local administrator).
  std::string ticket(au::ticket_spec spec) {
    return keeper.n.block_on([&](context& ctx) { return ticket_task(ctx, route{"authority"}, spec); }).value();
  }

  result_or_failure<bytes> enroll(const route& to, const std::string& secret) {
    return remote.n.block_on([&](context& ctx) { return enroll_task(ctx, to, secret); });
  }
  result_or_failure<bytes> refresh(const route& to) {
    return remote.n.block_on([&](context& ctx) { return refresh_task(ctx, to); });
  }

  authority_clock clock;
  tcp_node keeper;
  tcp_node remote;
  vault::identity authority_identity_raw = vault::identity::create(vault::vault::create_in_memory()).value();
  sc::channel_identity authority_identity = sc::channel_identity::create(authority_identity_raw).value();
  sc::channel_identity admin = new_channel_identity(), alice = new_channel_identity(), bob = new_channel_identity();
  std::shared_ptr<au::authority> project;
  std::shared_ptr<test::tap> tap;
  std::vector<sc::channel> channels;
};

}  // namespace nodus::test
