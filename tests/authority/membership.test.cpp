// Credentials in secure channel handshakes, between two nodes over loopback TCP: a member's
// attributes ride on each message it sends; a peer without a credential, or with one of another
// authority, gets no channel; a worker's policy allows and refuses by attributes; a credential
// that lapses stops the member's messages, and a refreshed one, presented inside the channel,
// lets them through again.
#include <doctest/doctest.h>

#include "authority_fixture.hpp"
#include "nodus/authority/membership.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

// Answers with who asked: the identifier, then `name=value` for each attribute.
class whoami final : public raw_worker {
public:
  task<result<>> handle_message(context& ctx, local_message m) override {
    auto s = sc::asking_subject(m, "this node");
    std::string text = s.identifier;
    for (const auto& [name, value] : s.attributes) text += " " + name + "=" + value;
    co_return co_await ctx.send(m.return_route, text);
  }
};

task<result_or_failure<bytes>> current_credential(std::shared_ptr<au::credential_keeper> k) {
  co_return co_await k->current();
}

// The authority's node runs a members-only listener, `members`, in front of `whoami` and of
// `producers`, a whoami only members with kafka=producer may reach.
struct members_fixture : authority_fixture {
  members_fixture() {
    REQUIRE(keeper.n.start_worker("whoami", whoami{}));
    auto producers = policy::parse_policy(R"(subject.kafka = "producer")").value();
    worker_options guarded;
    guarded.access = sc::allowed_by(producers, "the producers' worker");
    REQUIRE(keeper.n.block_on(
        [&](context& ctx) { return ctx.start_worker(address("producers"), whoami{}, std::move(guarded)); }));
    sc::options o{.identity = authority_identity, .trust = au::trust_members(project->trusted())};
    o.credentials = au::authority_credentials(project);
    o.expose = {"whoami", "producers"};
    auto l = keeper.n.block_on([&](context& ctx) { return sc::create_secure_channel_listener(ctx, "members", o); });
    REQUIRE(l);
    members = std::make_shared<sc::listener>(l.value());
  }

  /// Enrolls `who` with a ticket of `attributes` and keeps its credential.
  std::shared_ptr<au::credential_keeper> enrolled(const sc::channel_identity& who, au::attribute_map attributes) {
    const auto to = channel_for(who);
    auto credential = enroll(to, ticket({.attributes = std::move(attributes)}));
    REQUIRE_MESSAGE(credential, credential.error().message());
    return au::credential_keeper::create(
               remote.n.create_context("keeper."),
               {.to = to, .authority = project->trusted(), .subject = who.id(), .clock = clock.fn()},
               credential.value())
        .value();
  }

  result_or_failure<sc::channel> member_channel(const sc::channel_identity& who, sc::credential_options credentials) {
    sc::options o{.identity = who, .trust = au::trust_members(project->trusted())};
    o.credentials = std::move(credentials);
    return remote.n.block_on([&](context& ctx) {
      return sc::create_secure_channel(ctx, route{tcp(keeper.bound), "members"}, o);
    });
  }

  sc::credential_options credentials_of(std::shared_ptr<au::credential_keeper> k) {
    return au::member_credentials(std::move(k), project->trusted(), clock.fn());
  }

  std::shared_ptr<sc::listener> members;
};

}  // namespace

TEST_CASE("a member's credential rides on its messages, and the authority's own is accepted by members") {
  members_fixture f;
  auto k = f.enrolled(f.alice, {{"role", "member"}, {"kafka", "producer"}});
  auto ch = f.member_channel(f.alice, f.credentials_of(k));
  REQUIRE_MESSAGE(ch, ch.error().message());
  const auto project = f.project->trusted().id;
  auto reply = echo(f.remote.n, route{ch.value().address(), "whoami"}, "who?");
  REQUIRE_MESSAGE(reply, reply.error().message());
  CHECK(reply.value().body() == f.alice.id() + " kafka=producer project=" + project + " role=member");
  // Alice's end holds the authority's credential: it is a member of its own project.
  CHECK(ch.value().peer_attributes() == std::map<std::string, std::string>{{"project", project}});
  REQUIRE(f.members->channels().size() == 1);
  CHECK(f.members->channels()[0].peer_attributes().at("kafka") == "producer");
}

TEST_CASE("a members-only listener refuses an identity without a credential, and one of another authority") {
  members_fixture f;
  sc::credential_options checks_only;  // Bob checks the hub's credential, and has none to present
  checks_only.verify = au::credential_verifier(f.project->trusted(), f.clock.fn());
  auto none = f.member_channel(f.bob, checks_only);
  REQUIRE_FALSE(none);
  CHECK_MESSAGE(none.error().message().find("identity " + f.bob.id() + " presented no credential") != std::string::npos,
                none.error().message());

  auto other = au::authority::create({.identity = vault::identity::create(vault::vault::create_in_memory()).value(),
                                      .store = au::member_store::in_memory(),
                                      .clock = f.clock.fn()})
                   .value();
  auto foreign = std::make_shared<const bytes>(other->credential_for({f.bob.id(), {{"role", "member"}}, {}}).value());
  sc::credential_options forged = checks_only;
  forged.present = [foreign] { return foreign; };
  auto refused = f.member_channel(f.bob, forged);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("a credential issued by " + other->trusted().id) != std::string::npos);
  CHECK(f.keeper.logs.eventually_contains("the credential of identity " + f.bob.id() + " is refused"));

  // Alice's credential, presented by Bob: another identity's.
  auto k = f.enrolled(f.alice, {{"role", "member"}});
  sc::credential_options stolen;
  stolen.present = [k] { return k->presentable(); };
  stolen.verify = forged.verify;
  auto theft = f.member_channel(f.bob, stolen);
  REQUIRE_FALSE(theft);
  CHECK(theft.error().message().find("it is another identity's") != std::string::npos);
}

TEST_CASE("a worker's policy lets producers through and refuses a consumer, naming it and the policy") {
  members_fixture f;
  auto producer = f.member_channel(f.alice, f.credentials_of(f.enrolled(f.alice, {{"kafka", "producer"}})));
  auto consumer = f.member_channel(f.bob, f.credentials_of(f.enrolled(f.bob, {{"kafka", "consumer"}})));
  REQUIRE(producer);
  REQUIRE(consumer);
  auto allowed = echo(f.remote.n, route{producer.value().address(), "producers"}, "produce");
  REQUIRE_MESSAGE(allowed, allowed.error().message());
  CHECK(allowed.value().body().starts_with(f.alice.id()));
  auto refused = echo(f.remote.n, route{consumer.value().address(), "producers"}, "produce", 2s);
  REQUIRE_FALSE(refused);
  CHECK(f.keeper.logs.eventually_contains(f.bob.id() + " (kafka=consumer, project=" + f.project->trusted().id +
                                          ") is not allowed by the policy of the producers' worker: subject.kafka = "
                                          "\"producer\""));
}

TEST_CASE("a lapsed credential stops the member's messages; a refreshed one, presented in the channel, resumes them") {
  members_fixture f;
  auto k = f.enrolled(f.alice, {{"role", "member"}});
  auto ch = f.member_channel(f.alice, f.credentials_of(k));
  REQUIRE(ch);
  const route whoami{ch.value().address(), "whoami"};
  REQUIRE(echo(f.remote.n, whoami));

  f.clock.advance(std::chrono::minutes(61));  // past the credential's hour
  CHECK_FALSE(echo(f.remote.n, whoami, "after expiry", 1s));
  CHECK(f.keeper.logs.eventually_contains("the credential of " + f.alice.id() + " has expired"));
  CHECK(f.members->channels()[0].peer_attributes().empty());

  // A fresh credential (the keeper asks the authority, whose clock moved too) is presented
  // inside the channel before the next message.
  auto fresh = f.remote.n.block_on([&](context&) { return current_credential(k); });
  REQUIRE_MESSAGE(fresh, fresh.error().message());
  CHECK(k->refreshes() == 1);
  auto again = echo(f.remote.n, whoami, "refreshed");
  REQUIRE_MESSAGE(again, again.error().message());
  CHECK(again.value().body() == f.alice.id() + " project=" + f.project->trusted().id + " role=member");

  // Deleted: no more refreshes, so once the credential lapses the member is cut off.
  REQUIRE(f.project->store()->delete_member(f.alice.id()).value());
  f.clock.advance(std::chrono::minutes(61));
  auto refused = f.remote.n.block_on([&](context&) { return current_credential(k); });
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == au::enrollment_error::not_a_member);
  CHECK_FALSE(echo(f.remote.n, whoami, "after deletion", 1s));
  CHECK(f.members->channels()[0].stats().rejected >= 2);
}
