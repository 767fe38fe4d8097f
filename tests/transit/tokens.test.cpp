// Transit tokens and policies: who may do what on which key, and what is kept on disk.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "nodus/transit/tokens.hpp"
#include "temp_dir.hpp"

using namespace nodus;
using namespace nodus::transit;

namespace {

policy policy_of(const std::string& name, std::initializer_list<const char*> rules) {
  policy p{name, {}};
  for (const auto* r : rules) p.rules.push_back(parse_rule(r).value());
  return p;
}

}  // namespace

TEST_CASE("rules read as KEYS:OPERATIONS, with a prefix pattern and * for every operation") {
  const auto r = parse_rule("purchases-*:encrypt,datakey").value();
  CHECK(r.matches("purchases-eu"));
  CHECK_FALSE(r.matches("payments"));
  CHECK(rule_text(r) == "purchases-*:encrypt,datakey");
  CHECK(rule_text(parse_rule("*:*").value()) == "*:*");
  CHECK(parse_rule("orders").error().message().find("KEYS:OPERATIONS") != std::string::npos);
  CHECK(parse_rule("orders:steal").error().message().find("unknown operation 'steal'") == 0);
  CHECK(parse_rule("or*ders:encrypt").error().message().find("'*' may only end") != std::string::npos);
  CHECK(parse_rule("orders:").error().message().find("no operation") == 0);
}

TEST_CASE("a producer's token encrypts and never decrypts; root does everything; unknown tokens nothing") {
  auto store = token_store::open("").value();
  REQUIRE(store->write_policy(policy_of("producer", {"purchases:encrypt,datakey"})));
  auto producer = store->create_token({"producer"}, "producer-app", std::nullopt).value();
  CHECK(producer.token.starts_with("hvs."));
  CHECK(producer.token.find(producer.info.accessor) == std::string::npos);
  // Hex, so that `token revoke ACCESSOR` never reads as an option (base64url could start with '-').
  CHECK(producer.info.accessor.size() == 24);
  CHECK(producer.info.accessor.find_first_not_of("0123456789abcdef") == std::string::npos);

  CHECK(store->authorize(producer.token, operation::encrypt, "purchases").allowed);
  CHECK(store->authorize(producer.token, operation::datakey, "purchases").allowed);
  const auto refused = store->authorize(producer.token, operation::decrypt, "purchases");
  CHECK_FALSE(refused.allowed);
  CHECK(refused.accessor == producer.info.accessor);
  CHECK_FALSE(store->authorize(producer.token, operation::encrypt, "payments").allowed);

  auto root = store->create_token({"root"}, "", std::nullopt).value();
  CHECK(store->authorize(root.token, operation::remove, "anything").allowed);

  CHECK_FALSE(store->authorize("", operation::encrypt, "purchases").allowed);
  CHECK(store->authorize("", operation::encrypt, "purchases").reason.find("no token") == 0);
  const auto forged = store->authorize("hvs.forged", operation::encrypt, "purchases");
  CHECK_FALSE(forged.allowed);
  CHECK(forged.accessor.empty());

  CHECK(store->create_token({"nosuch"}, "", std::nullopt).error().message() == "no policy 'nosuch'");
  CHECK(store->write_policy(policy_of("root", {"*:encrypt"})).error().message().find("built in") != std::string::npos);
}

TEST_CASE("a revoked or expired token is refused; deleting a policy takes away what it allowed") {
  auto store = token_store::open("").value();
  REQUIRE(store->write_policy(policy_of("reader", {"*:decrypt"})));
  auto t = store->create_token({"reader"}, "", std::nullopt).value();
  REQUIRE(store->authorize(t.token, operation::decrypt, "k").allowed);
  REQUIRE(store->delete_policy("reader"));
  CHECK_FALSE(store->authorize(t.token, operation::decrypt, "k").allowed);

  REQUIRE(store->write_policy(policy_of("reader", {"*:decrypt"})));
  REQUIRE(store->authorize(t.token, operation::decrypt, "k").allowed);
  REQUIRE(store->revoke(t.info.accessor));
  CHECK_FALSE(store->lookup(t.token));
  CHECK(store->revoke(t.info.accessor).error().message().find("no token with accessor") == 0);

  auto expired = store->create_token({"reader"}, "", std::chrono::seconds(0)).value();
  CHECK_FALSE(store->authorize(expired.token, operation::decrypt, "k").allowed);
}

TEST_CASE("tokens and policies survive a restart; the file holds hashes, never a token") {
  test::temp_dir dir("nodus-transit-tokens");
  const auto file = dir.path / "transit-tokens.json";
  issued_token t;
  {
    auto store = token_store::open(file).value();
    REQUIRE(store->write_policy(policy_of("app", {"orders:encrypt,decrypt", "audit-*:hmac"})));
    t = store->create_token({"app"}, "app", std::chrono::hours(1)).value();
  }
  auto store = token_store::open(file).value();
  CHECK(store->authorize(t.token, operation::hmac, "audit-1").allowed);
  CHECK_FALSE(store->authorize(t.token, operation::hmac, "orders").allowed);
  CHECK(store->read_policy("app").value().rules.size() == 2);
  REQUIRE(store->tokens().size() == 1);
  CHECK(store->tokens().front().expires.has_value());
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().find(t.token.substr(4)) == std::string::npos);
  CHECK(text.str().find(t.info.accessor) != std::string::npos);
}
