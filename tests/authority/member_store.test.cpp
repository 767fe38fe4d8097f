// The member store on its own: tickets spent once, refusals in order, and a file that survives.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "nodus/authority/errors.hpp"
#include "nodus/authority/member_store.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus;
using namespace nodus::authority;

namespace {

const time_point t0 = from_millis(1'800'000'000'000);
const std::string alice = "I" + std::string(40, 'a'), bob = "I" + std::string(40, 'b');

struct temporary_directory {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("nodus-authority-" + std::to_string(::getpid()) + "-" +
                                std::to_string(vault::random_bytes(4)[0] * 256 + vault::random_bytes(1)[0]));
  ~temporary_directory() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("a ticket admits as many members as its usage count, then says it is used up") {
  auto store = member_store::in_memory();
  auto secret = store->add_ticket({.attributes = {{"role", "member"}}, .relay = "*", .usage_count = 2}, t0).value();
  CHECK(secret.size() == secret_hex_size);
  auto a = store->redeem(secret, alice, t0);
  REQUIRE(a);
  CHECK(a.value().attributes == attribute_map{{"relay", "*"}, {"role", "member"}});
  REQUIRE(store->redeem(secret, bob, t0));
  auto third = store->redeem(secret, "I" + std::string(40, 'c'), t0);
  REQUIRE_FALSE(third);
  CHECK(third.error().code == enrollment_error::ticket_used_up);
  CHECK(third.error().reason.starts_with("ticket used up"));
  CHECK(store->members().size() == 2);
  CHECK(store->tickets().front().secret_sha256 == secret_digest(secret));  // the secret itself is not kept
}

TEST_CASE("an expired ticket and an unknown secret are refused as such; bad tickets are not made") {
  auto store = member_store::in_memory();
  auto secret = store->add_ticket({.expires_in = std::chrono::seconds(60)}, t0).value();
  auto late = store->redeem(secret, alice, t0 + std::chrono::seconds(60));
  REQUIRE_FALSE(late);
  CHECK(late.error().code == enrollment_error::ticket_expired);
  CHECK(late.error().reason.starts_with("ticket expired at "));
  auto unknown = store->redeem(std::string(64, '0'), alice, t0);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == enrollment_error::unknown_ticket);
  CHECK(store->members().empty());

  for (const ticket_spec& bad :
       {ticket_spec{.usage_count = 0}, ticket_spec{.expires_in = std::chrono::seconds(0)},
        ticket_spec{.attributes = {{"relay", "x"}}}, ticket_spec{.attributes = {{"no spaces", "x"}}},
        ticket_spec{.relay = std::string(129, 'r')}}) {
    auto r = store->add_ticket(bad, t0);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == enrollment_error::bad_request);
  }
}

TEST_CASE("the store survives reopening, in a file of mode 0600; deleting a member sticks") {
  temporary_directory dir;
  std::string secret;
  {
    auto store = member_store::open(dir.path).value();
    secret = store->add_ticket({.attributes = {{"role", "member"}}, .usage_count = 2}, t0).value();
    REQUIRE(store->redeem(secret, alice, t0));
    REQUIRE(store->redeem(secret, bob, t0));
    CHECK(store->delete_member(bob).value());
    CHECK_FALSE(store->delete_member(bob).value());
  }
  struct stat st {};
  REQUIRE(::stat((dir.path / "members.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(dir.path / "members.json");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.find(secret) == std::string::npos);
  CHECK(text.find(secret_digest(secret)) != std::string::npos);

  auto again = member_store::open(dir.path).value();
  REQUIRE(again->members().size() == 1);
  CHECK(again->members()[0].id == alice);
  CHECK(again->members()[0].attributes == attribute_map{{"role", "member"}});
  CHECK(again->members()[0].added_at == t0);
  CHECK_FALSE(again->find(bob));
  auto spent = again->redeem(secret, bob, t0);  // the uses spent before stay spent
  REQUIRE_FALSE(spent);
  CHECK(spent.error().code == enrollment_error::ticket_used_up);

  std::ofstream(dir.path / "members.json") << "{\"version\": 1, \"members\": 3}";
  auto broken = member_store::open(dir.path);
  REQUIRE_FALSE(broken);
  CHECK(broken.error().reason.find("members.json") != std::string::npos);
}
