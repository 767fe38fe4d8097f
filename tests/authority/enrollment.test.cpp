// Enrollment over real secure channels between two nodes: a ticket's secret buys a credential
// with the ticket's attributes, once; refusals say why; administrators manage members; a
// deleted member gets no new credential; the keeper refreshes before the credential lapses.
#include <doctest/doctest.h>

#include <thread>

#include "authority_fixture.hpp"
#include "nodus/authority/errors.hpp"

using namespace nodus;
using namespace nodus::test;
using au::enrollment_error;

TEST_CASE("enrolling with a ticket gives a credential that verifies, with the ticket's attributes") {
  authority_fixture f;
  const auto secret = f.ticket({.attributes = {{"role", "member"}, {"kafka", "producer"}}, .relay = "*"});
  auto to = f.channel_for(f.alice);
  auto got = f.enroll(to, secret);
  REQUIRE_MESSAGE(got, got.error().message());
  auto c = au::verify_credential(got.value(), f.project->trusted(), f.alice.id(), f.clock.now());
  REQUIRE_MESSAGE(c, c.error().message());
  CHECK(c.value().subject == f.alice.id());
  CHECK(c.value().issuer == f.authority_identity.id());
  CHECK(c.value().attributes ==
        au::attribute_map{
            {"kafka", "producer"}, {"project", f.authority_identity.id()}, {"relay", "*"}, {"role", "member"}});
  CHECK(c.value().issued_at == f.clock.now());
  CHECK(c.value().expires_at == f.clock.now() + std::chrono::hours(1));
  auto m = f.project->store()->find(f.alice.id());
  REQUIRE(m);
  auto granted = c.value().attributes;  // the store keeps the ticket's; the authority adds `project`
  granted.erase("project");
  CHECK(m->attributes == granted);
  CHECK(f.keeper.logs.eventually_contains("enrolled identity " + f.alice.id()));
  // The credential is about Alice: Bob cannot present it.
  CHECK(au::verify_credential(got.value(), f.project->trusted(), f.bob.id(), f.clock.now()).error().code ==
        au::credential_error::wrong_subject);
}

TEST_CASE("a used ticket, an expired ticket and an unknown secret are refused, saying which") {
  authority_fixture f;
  const auto once = f.ticket({.usage_count = 1});
  const auto alice = f.channel_for(f.alice), bob = f.channel_for(f.bob);
  REQUIRE(f.enroll(alice, once));
  auto reused = f.enroll(bob, once);
  REQUIRE_FALSE(reused);
  CHECK(reused.error().code == enrollment_error::ticket_used_up);
  CHECK(reused.error().reason.starts_with("ticket used up"));
  CHECK(f.keeper.logs.eventually_contains("refused identity " + f.bob.id() + ": ticket used up"));
  CHECK_FALSE(f.project->store()->find(f.bob.id()));

  const auto short_lived = f.ticket({.expires_in = std::chrono::seconds(60)});
  f.clock.advance(std::chrono::seconds(60));
  auto expired = f.enroll(bob, short_lived);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == enrollment_error::ticket_expired);
  CHECK(expired.error().reason.starts_with("ticket expired at "));

  auto unknown = f.enroll(bob, std::string(64, '0'));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == enrollment_error::unknown_ticket);
  CHECK(unknown.error().reason.starts_with("unknown ticket"));
}

TEST_CASE("a credential from another authority is refused by the project's verifier") {
  authority_fixture f;
  auto other = au::authority::create({.identity = vault::identity::create(vault::vault::create_in_memory()).value(),
                                      .store = au::member_store::in_memory()})
                   .value();
  au::member m{f.alice.id(), {{"role", "member"}}, f.clock.now()};
  auto foreign = other->credential_for(m).value();
  auto refused = au::verify_credential(foreign, f.project->trusted(), f.alice.id(), f.clock.now());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == au::credential_error::wrong_issuer);
  CHECK(refused.error().reason ==
        "a credential issued by " + other->trusted().id + ", not the project's authority " + f.project->trusted().id);
}

TEST_CASE("20 identities enrolling at once with a ticket of usage count 1: exactly one wins") {
  authority_fixture f;
  const auto secret = f.ticket({.attributes = {{"role", "member"}}, .usage_count = 1});
  constexpr int count = 20;
  std::vector<sc::channel_identity> who;
  std::vector<route> routes;
  for (int i = 0; i < count; ++i) {
    who.push_back(new_channel_identity());
    routes.push_back(f.channel_for(who.back()));
  }
  std::vector<std::optional<result_or_failure<bytes>>> outcomes(count);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < count) std::this_thread::yield();  // all start together
      outcomes[i] = f.enroll(routes[i], secret);
    });
  for (auto& t : threads) t.join();
  int won = 0, used_up = 0;
  std::string winner;
  for (int i = 0; i < count; ++i) {
    REQUIRE(outcomes[i]);
    if (*outcomes[i]) {
      ++won;
      winner = who[i].id();
      CHECK(au::verify_credential(outcomes[i]->value(), f.project->trusted(), winner, f.clock.now()));
    } else if (outcomes[i]->error().code == enrollment_error::ticket_used_up) {
      ++used_up;
      CHECK(outcomes[i]->error().reason.starts_with("ticket used up"));
    } else {
      FAIL_CHECK(outcomes[i]->error().message());
    }
  }
  CHECK(won == 1);
  CHECK(used_up == count - 1);
  REQUIRE(f.project->store()->members().size() == 1);
  CHECK(f.project->store()->members()[0].id == winner);
  CHECK(f.project->store()->tickets()[0].usage_left == 0);
}

TEST_CASE("only administrators issue tickets, list and delete members") {
  authority_fixture f;
  const auto alice = f.channel_for(f.alice), admin = f.channel_for(f.admin);
  au::ticket_spec spec{.attributes = {{"role", "member"}}, .relay = "alice"};
  auto refused = f.remote.n.block_on([&](context& ctx) { return ticket_task(ctx, alice, spec); });
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == enrollment_error::not_an_administrator);
  CHECK(refused.error().reason.starts_with("not an administrator: " + f.alice.id()));
  auto listed = f.remote.n.block_on([&](context& ctx) { return members_task(ctx, alice); });
  REQUIRE_FALSE(listed);
  CHECK(listed.error().code == enrollment_error::not_an_administrator);
  auto deleted = f.remote.n.block_on([&](context& ctx) { return delete_task(ctx, alice, f.alice.id()); });
  REQUIRE_FALSE(deleted);
  CHECK(deleted.error().code == enrollment_error::not_an_administrator);
  CHECK(f.project->store()->tickets().empty());

  auto secret = f.remote.n.block_on([&](context& ctx) { return ticket_task(ctx, admin, spec); });
  REQUIRE_MESSAGE(secret, secret.error().message());
  REQUIRE(f.enroll(alice, secret.value()));
  auto members = f.remote.n.block_on([&](context& ctx) { return members_task(ctx, admin); });
  REQUIRE(members);
  REQUIRE(members.value().size() == 1);
  CHECK(members.value()[0].id == f.alice.id());
  CHECK(members.value()[0].attributes == au::attribute_map{{"relay", "alice"}, {"role", "member"}});
}

TEST_CASE("a member refreshes its credential; once deleted it is not a member and gets none") {
  authority_fixture f;
  const auto secret = f.ticket({.attributes = {{"role", "member"}}});
  const auto alice = f.channel_for(f.alice), admin = f.channel_for(f.admin);
  REQUIRE(f.enroll(alice, secret));
  f.clock.advance(std::chrono::minutes(50));
  auto fresh = f.refresh(alice);
  REQUIRE_MESSAGE(fresh, fresh.error().message());
  auto c = au::verify_credential(fresh.value(), f.project->trusted(), f.alice.id(), f.clock.now());
  REQUIRE(c);
  CHECK(c.value().issued_at == f.clock.now());

  auto deleted = f.remote.n.block_on([&](context& ctx) { return delete_task(ctx, admin, f.alice.id()); });
  REQUIRE(deleted);
  CHECK(deleted.value());
  auto refused = f.refresh(alice);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == enrollment_error::not_a_member);
  CHECK(refused.error().reason == "not a member: " + f.alice.id() + " is not a member of the project");
  auto stranger = f.refresh(f.channel_for(f.bob));
  REQUIRE_FALSE(stranger);
  CHECK(stranger.error().code == enrollment_error::not_a_member);
}

namespace {
task<result_or_failure<bytes>> current_of(std::shared_ptr<au::credential_keeper> k) { co_return co_await k->current(); }
}  // namespace

TEST_CASE("the keeper refreshes at 3/4 of the credential's life, and bridges a failed refresh until expiry") {
  authority_fixture f;
  const auto secret = f.ticket({.attributes = {{"role", "member"}}});
  const auto alice = f.channel_for(f.alice);
  auto first = f.enroll(alice, secret).value();
  auto keeper =
      au::credential_keeper::create(
          f.remote.n.create_context("authority."),
          {.to = alice, .authority = f.project->trusted(), .subject = f.alice.id(), .clock = f.clock.fn()}, first)
          .value();
  const auto issued = keeper->held().issued_at;
  CHECK(keeper->refresh_due() == issued + std::chrono::minutes(45));
  auto current = [&] { return f.remote.n.block_on([&](context&) { return current_of(keeper); }); };
  f.clock.advance(std::chrono::minutes(44));
  CHECK(current().value() == first);
  CHECK(keeper->refreshes() == 0);
  f.clock.advance(std::chrono::minutes(1));
  auto second = current();
  REQUIRE_MESSAGE(second, second.error().message());
  CHECK(second.value() != first);
  CHECK(keeper->refreshes() == 1);
  CHECK(keeper->held().issued_at == issued + std::chrono::minutes(45));

  REQUIRE(f.project->store()->delete_member(f.alice.id()).value());
  f.clock.advance(std::chrono::minutes(50));  // due again, still valid: the held one is bridged
  CHECK(current().value() == second.value());
  CHECK(f.remote.logs.eventually_contains("not a member"));
  f.clock.advance(std::chrono::minutes(10));  // past its expiry
  auto lapsed = current();
  REQUIRE_FALSE(lapsed);
  CHECK(lapsed.error().code == enrollment_error::not_a_member);

  auto wrong = au::credential_keeper::create(
      f.remote.n.create_context("authority."),
      {.to = alice, .authority = f.project->trusted(), .subject = f.bob.id(), .clock = f.clock.fn()}, second.value());
  REQUIRE_FALSE(wrong);
}

TEST_CASE("an authority's members survive a restart of its store") {
  const auto dir = std::filesystem::temp_directory_path() / ("nodus-authority-restart-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    authority_fixture f(au::member_store::open(dir).value());
    const auto secret = f.ticket({.attributes = {{"role", "member"}}, .usage_count = 2});
    REQUIRE(f.enroll(f.channel_for(f.alice), secret));
  }
  auto reopened = au::member_store::open(dir).value();
  auto alice = reopened->members();
  REQUIRE(alice.size() == 1);
  CHECK(alice[0].attributes == au::attribute_map{{"role", "member"}});
  REQUIRE(reopened->tickets().size() == 1);
  CHECK(reopened->tickets()[0].usage_left == 1);
  std::filesystem::remove_all(dir);
}
