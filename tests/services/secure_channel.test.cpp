// Secure channels end to end inside one node: echo, identities, trust, close, limits, access
// control. (Tampering, replays, reordering and gaps: secure_channel_tamper.test.cpp.)

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

// verify_peer is private to the library; its declaration is needed to feed it hostile bytes.
#include "../../secure_channel/src/channel_state.hpp"
#include "nodus/core/transport_message.hpp"
#include "nodus/vault/known_identities.hpp"
#include "secure_channel_fixture.hpp"

using namespace nodus;
using namespace std::chrono_literals;
using test::secure_channel_fixture;
namespace sc = nodus::secure_channel;

namespace {

/// An identity whose first primary key is the Ed25519 key with the private bytes `seed`, made in
/// `v` with a fixed creation time: built twice from one seed in two vaults, it gives the same
/// first change, as a thief who copied the key before its owner rotated it away would have.
vault::identity identity_from_seed(const std::shared_ptr<vault::vault>& v, const bytes& seed) {
  auto key = v->import_secret(vault::key_type::ed25519, seed);
  REQUIRE(key);
  vault::identity_change first{.public_key = v->public_key(key.value()).value(), .created_at = 1'700'000'000};
  first.self_signature = v->sign(key.value(), first.signed_content()).value();
  auto made = vault::identity::from_history(v, vault::change_history({first}), key.value());
  REQUIRE_MESSAGE(made, made.error().message());
  return std::move(made).value();
}

/// Replies with the identifier the secure channel recorded in the message's metadata.
class who_is_it final : public raw_worker {
public:
  task<result<>> handle_message(context& ctx, local_message message) override {
    auto found = message.metadata.find(sc::identifier_key);
    std::string peer = found == message.metadata.end() ? "(none)" : found->second;
    co_return co_await ctx.send(message.return_route, peer);
  }
};

}  // namespace

TEST_CASE("a channel carries messages both ways and each side knows who the other is") {
  secure_channel_fixture f;
  auto l = f.listen(f.options_for(f.bob));
  REQUIRE(l);
  auto ch = f.connect(f.options_for(f.alice));
  REQUIRE_MESSAGE(ch, ch.error().message());
  CHECK(ch.value().peer() == f.bob.id());
  CHECK(ch.value().open());

  for (int i = 0; i < 20; ++i) {
    auto echoed = f.echo(ch.value(), "hello " + std::to_string(i));
    REQUIRE(echoed);
    CHECK(echoed.value() == "hello " + std::to_string(i));
  }
  REQUIRE(l.value().channels().size() == 1);
  auto bob_side = l.value().channels().front();
  CHECK(bob_side.peer() == f.alice.id());
  CHECK(bob_side.stats().delivered == 20);
  CHECK(ch.value().stats().sent == 20);
  CHECK(ch.value().stats().delivered == 20);  // the echoes
  CHECK(ch.value().stats().missing == 0);

  // The receiving worker sees the authenticated identifier in the local metadata.
  REQUIRE(f.n.start_worker("who", who_is_it{}));
  f.n.create_context().expose(l.value().flow(), "who");  // exposed after the listener started
  auto seen = f.n.send_and_receive<std::string>(route{ch.value().address(), "who"}, std::string("?"), 3s);
  REQUIRE(seen);
  CHECK(seen.value() == f.alice.id());
}

TEST_CASE("the tap between the two ends sees only ciphertext") {
  secure_channel_fixture f;
  std::vector<bytes> seen;
  std::mutex m;
  f.relay->set([&](local_message& msg) {
    std::lock_guard lock(m);
    seen.push_back(msg.payload);
    return test::tap::action::forward;
  });
  REQUIRE(f.listen(f.options_for(f.bob)));
  auto ch = f.connect(f.options_for(f.alice));
  REQUIRE(ch);
  const std::string secret = "the eagle lands at midnight";
  REQUIRE(f.echo(ch.value(), secret));
  std::lock_guard lock(m);
  CHECK(seen.size() >= 6);  // 3 handshake messages, the confirmation, the message, its echo
  for (const auto& payload : seen) {
    std::string text(payload.begin(), payload.end());
    CHECK(text.find(secret) == std::string::npos);
    CHECK(text.find("echoer") == std::string::npos);  // routes inside the channel are hidden too
  }
}

TEST_CASE("a trust policy that refuses the peer fails the handshake on both sides, naming it") {
  SUBCASE("the initiator refuses the listener's identity") {
    secure_channel_fixture f;
    auto l = f.listen(f.options_for(f.bob));
    REQUIRE(l);
    auto o = f.options_for(f.alice);
    o.trust = sc::trust_policy::identifier("I0000000000000000000000000000000000000000");
    auto ch = f.connect(o);
    REQUIRE_FALSE(ch);
    CHECK(ch.error().code == condition::denied);
    CHECK(ch.error().message().find(f.bob.id()) != std::string::npos);
    CHECK(test::eventually([&] { return f.logs.contains("the peer aborted the handshake"); }));
    CHECK(l.value().channels().empty());
  }
  SUBCASE("the listener refuses the initiator's identity") {
    secure_channel_fixture f;
    auto bob_options = f.options_for(f.bob);
    bob_options.trust = sc::trust_policy::any_of({"I1111111111111111111111111111111111111111"});
    auto l = f.listen(bob_options);
    REQUIRE(l);
    auto ch = f.connect(f.options_for(f.alice));
    REQUIRE_FALSE(ch);
    CHECK(ch.error().code == condition::denied);
    CHECK(ch.error().message().find(f.alice.id()) != std::string::npos);
    CHECK(f.logs.eventually_contains("identity " + f.alice.id() + " is not trusted"));
    CHECK(l.value().channels().empty());
  }
  SUBCASE("a custom predicate") {
    secure_channel_fixture f;
    auto bob_options = f.options_for(f.bob);
    const auto alice_id = f.alice.id();
    bob_options.trust =
        sc::trust_policy::custom("only Alice", [alice_id](const vault::identifier& id) { return id == alice_id; });
    REQUIRE(f.listen(bob_options));
    auto o = f.options_for(f.alice);
    o.trust = sc::trust_policy::identifier(f.bob.id());
    auto ch = f.connect(o);
    REQUIRE_MESSAGE(ch, ch.error().message());
    CHECK(f.echo(ch.value(), "trusted both ways").value() == "trusted both ways");
  }
}

TEST_CASE("no listener answering: the initiator times out with a clear error") {
  secure_channel_fixture f;
  auto o = f.options_for(f.alice);
  o.handshake_timeout = 300ms;
  f.relay->set([](local_message&) { return test::tap::action::drop; });
  REQUIRE(f.listen(f.options_for(f.bob)));
  auto ch = f.connect(o);
  REQUIRE_FALSE(ch);
  CHECK(ch.error().code == condition::timeout);
  CHECK(ch.error().message().find("tap") != std::string::npos);
}

TEST_CASE("keep_waiting: a slow route extends the handshake's wait; a failure ends it with its reason") {
  constexpr int handshake_1 = 1;  // the frame kind of Noise message 1 (channel_frame.hpp)
  SUBCASE("a first message that is late, while keep_waiting says the route still carries it") {
    secure_channel_fixture f;
    REQUIRE(f.listen(f.options_for(f.bob)));
    f.relay->set([](local_message& m) {  // an intermediary that takes its time with message 1
      return test::frame_kind(m) == handshake_1 ? test::tap::action::hold : test::tap::action::forward;
    });
    auto o = f.options_for(f.alice);
    o.handshake_timeout = 200ms;
    auto asked = std::make_shared<std::atomic<int>>(0);
    o.keep_waiting = [asked]() -> result_or_failure<> {
      if (++*asked > 100) return fail(errc::timeout, "asked too often");
      return ok();
    };
    auto channel = std::async(std::launch::async, [&] { return f.connect(o); });
    // Past two timeouts, the message reaches Bob: the channel is made all the same.
    REQUIRE(test::eventually([&] { return asked->load() >= 2 && f.relay->held() == 1; }, 10s));
    for (auto& held : f.relay->take_held()) REQUIRE(f.n.block_on([&](context& ctx) { return ctx.forward(held); }));
    auto made = channel.get();
    REQUIRE_MESSAGE(made, made.error().message());
    CHECK(f.echo(made.value(), "late but there").value() == "late but there");
  }
  SUBCASE("keep_waiting gives up: the wait ends with its failure, and nothing is left running") {
    secure_channel_fixture f;
    REQUIRE(f.listen(f.options_for(f.bob)));
    f.relay->set([](local_message&) { return test::tap::action::drop; });
    auto o = f.options_for(f.alice);
    o.handshake_timeout = 100ms;
    auto asked = std::make_shared<std::atomic<int>>(0);
    o.keep_waiting = [asked]() -> result_or_failure<> {
      if (++*asked < 3) return ok();
      return fail(errc::timeout, "nobody reads stream 'x'");
    };
    const auto before = f.n.list_workers().size();
    auto ch = f.connect(o);
    REQUIRE_FALSE(ch);
    CHECK(asked->load() == 3);
    CHECK(ch.error().code == condition::timeout);
    CHECK(ch.error().message() == "nobody reads stream 'x'");
    CHECK(test::eventually([&] { return f.n.list_workers().size() <= before; }));  // the initiator stopped
  }
}

TEST_CASE("closing a channel stops both ends; the peer learns it from an authenticated Close") {
  secure_channel_fixture f;
  auto l = f.listen(f.options_for(f.bob));
  REQUIRE(l);
  auto ch = f.connect(f.options_for(f.alice));
  REQUIRE(ch);
  REQUIRE(f.echo(ch.value(), "before"));
  auto bob_side = l.value().channels().front();
  CHECK(bob_side.open());

  REQUIRE(f.n.block_on([&](context& ctx) { return sc::close_secure_channel(ctx, ch.value().address()); }));
  CHECK(test::eventually([&] { return !bob_side.open() && !ch.value().open(); }));
  CHECK(test::eventually([&] { return f.logs.contains("closed by " + f.alice.id()); }));
  auto after = f.n.block_on([&](context& ctx) {
    return ctx.send(route{ch.value().address(), "echoer"}, std::string("after"));
  });
  CHECK(after.error() == errc::unknown_address);
  auto bob_after = f.n.block_on([&](context& ctx) {
    return ctx.send(route{bob_side.address(), "echoer"}, std::string("x"));
  });
  CHECK(bob_after.error() == errc::unknown_address);
}

TEST_CASE("a message over the channel's limit is refused to its sender") {
  secure_channel_fixture f;
  auto o = f.options_for(f.alice);
  o.max_payload_size = 1000;
  REQUIRE(f.listen(f.options_for(f.bob)));
  auto ch = f.connect(o);
  REQUIRE(ch);
  bytes big(1001, 7);
  auto sent = f.n.block_on([&](context& ctx) {
    return ctx.send(route{ch.value().address(), "echoer"}, std::move(big));
  });
  CHECK(sent.error() == errc::too_large);
  CHECK(f.echo(ch.value(), "small still works").value() == "small still works");
}

TEST_CASE("only_from: a worker accepts only messages from the identities it names") {
  secure_channel_fixture f;
  auto carol =
      sc::channel_identity::create(vault::identity::create(f.keys, vault::key_lifetime::ephemeral).value()).value();
  worker_options guarded;
  guarded.access = sc::only_from({f.alice.id()});
  REQUIRE(f.n.start_worker("vault_door", services::echoer{}, guarded));
  auto bob_options = f.options_for(f.bob);
  bob_options.expose.push_back("vault_door");
  REQUIRE(f.listen(bob_options));

  auto from_alice = f.connect(f.options_for(f.alice));
  REQUIRE(from_alice);
  auto ok_reply =
      f.n.send_and_receive<std::string>(route{from_alice.value().address(), "vault_door"}, std::string("open"), 3s);
  REQUIRE(ok_reply);
  CHECK(ok_reply.value() == "open");

  auto from_carol = f.connect(f.options_for(carol));
  REQUIRE(from_carol);
  auto refused =
      f.n.send_and_receive<std::string>(route{from_carol.value().address(), "vault_door"}, std::string("open"), 500ms);
  CHECK_FALSE(refused);
  CHECK(test::eventually([&] { return f.logs.contains("from identity " + carol.id()); }));

  auto direct = f.n.block_on([&](context& ctx) { return ctx.send(route{"vault_door"}, std::string("open")); });
  CHECK(direct.error() == errc::access_denied);
}

TEST_CASE("an identity rotated between two runs keeps its identifier and is still trusted") {
  auto dir = std::filesystem::temp_directory_path() / ("nodus-sc-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  vault::identifier bob_id;
  {  // first run: Bob's identity is created and saved
    auto v = vault::vault::open_directory(dir).value();
    vault::identity_store store(v);
    bob_id = store.create("bob").value().id();
  }
  {  // second run: Bob rotates his key, then Alice (trusting Bob's identifier) connects
    auto v = vault::vault::open_directory(dir).value();
    vault::identity_store store(v);
    auto rotated = store.rotate("bob");
    REQUIRE_MESSAGE(rotated, rotated.error().message());
    CHECK(rotated.value().id() == bob_id);
    CHECK(rotated.value().history().changes().size() == 2);

    secure_channel_fixture f;
    f.bob = sc::channel_identity::create(rotated.value()).value();
    REQUIRE(f.listen(f.options_for(f.bob)));
    auto o = f.options_for(f.alice);
    o.trust = sc::trust_policy::identifier(bob_id);
    auto ch = f.connect(o);
    REQUIRE_MESSAGE(ch, ch.error().message());
    CHECK(ch.value().peer() == bob_id);
    CHECK(f.echo(ch.value(), "still you").value() == "still you");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("ChaChaPoly channels work too") {
  secure_channel_fixture f;
  auto bob_options = f.options_for(f.bob);
  bob_options.suite = sc::cipher_suite::chacha20_poly1305;
  REQUIRE(f.listen(bob_options));
  auto o = f.options_for(f.alice);
  o.suite = sc::cipher_suite::chacha20_poly1305;
  auto ch = f.connect(o);
  REQUIRE(ch);
  CHECK(f.echo(ch.value(), "chacha").value() == "chacha");
}

TEST_CASE("a thief with a rotated-away key cannot pass for its identity by cutting the history back") {
  secure_channel_fixture f;
  const bytes seed = vault::random_bytes(32);
  auto victim = identity_from_seed(vault::vault::create_in_memory(), seed);
  auto stolen = identity_from_seed(vault::vault::create_in_memory(), seed);  // the leaked key
  REQUIRE(victim.id() == stolen.id());
  REQUIRE(victim.rotate(vault::key_lifetime::ephemeral));  // the owner replaces the leaked key
  auto l = f.listen(f.options_for(f.bob));
  REQUIRE(l);

  // Bob meets the victim after the rotation and so has seen its history of two changes.
  auto genuine = f.connect(f.options_for(sc::channel_identity::create(victim).value()));
  REQUIRE_MESSAGE(genuine, genuine.error().message());
  CHECK(genuine.value().peer() == f.bob.id());

  // The thief shows change 0 alone, with a static key attested by the old key: a valid history
  // and attestation on their own, refused because Bob knows the identity has moved on.
  auto attack = f.connect(f.options_for(sc::channel_identity::create(stolen).value()));
  REQUIRE_FALSE(attack);
  INFO("refusal: " << attack.error().message());
  CHECK(attack.error().code == condition::denied);
  CHECK(attack.error().message().find("identity " + victim.id()) != std::string::npos);
  CHECK(attack.error().message().find("older than one already seen") != std::string::npos);
  CHECK(test::eventually([&] { return f.logs.contains("older than one already seen"); }));
  CHECK(l.value().channels().size() == 1);

  // The owner, with the current key, still gets in.
  auto again = f.connect(f.options_for(sc::channel_identity::create(victim).value()));
  REQUIRE_MESSAGE(again, again.error().message());
  CHECK(f.echo(again.value(), "it is me").value() == "it is me");
}

TEST_CASE("a peer that saw the old history accepts a legitimate rotation, also after both restart") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("nodus-sc-known-" + std::to_string(::getpid()) + "-" + std::to_string(vault::random_bytes(1)[0]));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  vault::identifier alice_id;
  auto run = [&](bool rotate_first) {
    auto alice_vault = vault::vault::open_directory(dir / "alice").value();
    auto bob_vault = vault::vault::open_directory(dir / "bob").value();
    vault::identity_store alice_store(alice_vault), bob_store(bob_vault);
    auto alice = rotate_first ? alice_store.rotate("alice") : alice_store.load_or_create("alice");
    auto bob = bob_store.load_or_create("bob");
    REQUIRE_MESSAGE(alice, alice.error().message());
    REQUIRE_MESSAGE(bob, bob.error().message());
    alice_id = alice.value().id();
    secure_channel_fixture f;
    f.alice = sc::channel_identity::create(alice.value()).value();
    f.bob = sc::channel_identity::create(bob.value()).value();
    auto l = f.listen(f.options_for(f.bob));
    REQUIRE(l);
    auto ch = f.connect(f.options_for(f.alice));
    REQUIRE_MESSAGE(ch, ch.error().message());
    CHECK(f.echo(ch.value(), "hello").value() == "hello");
    CHECK(test::eventually([&] { return l.value().channels().size() == 1; }));
    CHECK(l.value().channels().front().peer() == alice_id);
    return bob_vault->known().latest(alice_id).value().changes().size();
  };
  CHECK(run(false) == 1);  // first run: Bob sees Alice's first history
  CHECK(run(true) == 2);   // both vaults reopened; Alice has rotated, Bob takes the longer history
  {
    auto bob_vault = vault::vault::open_directory(dir / "bob").value();  // and keeps it
    CHECK(bob_vault->known().latest(alice_id).value().changes().size() == 2);
  }
  std::filesystem::remove_all(dir);
}

namespace {

// Payloads whose few header bytes claim far more than they carry. An unbounded msgpack parser
// reserves room for what a header claims before it notices the input ends: 2^27 elements of
// 16-byte msgpack objects is 2 GiB, 2^31 of them 32 GiB.
const std::vector<bytes>& hostile_payloads() {
  static const std::vector<bytes> payloads{
      {0xdd, 0x08, 0x00, 0x00, 0x00},                          // an array of 2^27 elements
      {0xdd, 0x7f, 0xff, 0xff, 0xff},                          // an array of 2^31 - 1 elements
      {0xdf, 0x7f, 0xff, 0xff, 0xff},                          // a map of 2^31 - 1 pairs
      {0x93, 0x01, 0xdd, 0x7f, 0xff, 0xff, 0xff, 0xc4, 0x00},  // the history field as a huge array
      {0x93, 0x01, 0xc6, 0x7f, 0xff, 0xff, 0xff, 0xc4, 0x00},  // the history field claiming 2 GiB
  };
  return payloads;
}

// Virtual memory in use by this process, from /proc/self/status.
rlim_t address_space_in_use() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmSize:")) return static_cast<rlim_t>(std::stoull(line.substr(7))) * 1024;
  return 0;
}

}  // namespace

TEST_CASE("a handshake payload whose header claims gigabytes is refused without reserving them") {
  secure_channel_fixture f;
  const auto local = f.options_for(f.bob);
  const bytes remote_static(32, 9);
  for (const auto& payload : hostile_payloads()) {
    CAPTURE(payload.size());
    auto r = sc::verify_peer(payload, remote_static, local);
    REQUIRE_FALSE(r);
    INFO("reason: " << r.error().message());
    // Too large for the input (a count), or cut short (a byte string, which is never copied).
    CHECK((r.error().code == errc::too_large || r.error().code == errc::malformed));
    CHECK(r.error().message().starts_with("peer's handshake payload: not one msgpack value"));
  }
  // The same in a child whose address space is capped at 256 MiB above what it uses: reserving
  // what the header claims would fail there (std::bad_alloc). The child is killed by an alarm
  // if it hangs, so the wait is bounded.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::alarm(20);
    const rlimit cap{address_space_in_use() + (256u << 20), RLIM_INFINITY};
    if (::setrlimit(RLIMIT_AS, &cap) != 0) ::_exit(3);
    for (const auto& payload : hostile_payloads()) {
      auto r = sc::verify_peer(payload, remote_static, local);
      if (r || r.error().message().find("bad_alloc") != std::string::npos) ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
