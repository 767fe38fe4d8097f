// The transit HTTP API as a client written against Vault sees it: paths, bodies, statuses and
// error shapes; policies refusing with a log line that names the accessor and never the token.
#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "nodus/core/base64.hpp"
#include "nodus/core/json.hpp"
#include "nodus/transit/api.hpp"

using namespace nodus;
using namespace nodus::transit;

namespace {

std::string b64(std::string_view s) {
  return base64_encode({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}
std::string unb64(const json::value& v) {
  const auto b = base64_decode(*v.as_string()).value();
  return {b.begin(), b.end()};
}

struct fixture {
  test::log_capture log;
  std::shared_ptr<token_store> tokens = token_store::open("").value();
  service api{{keyring::open(vault::vault::create_in_memory(), "").value(), tokens, nullptr, log.logger().get()}};
  std::string root = tokens->create_token({"root"}, "admin", std::nullopt).value().token;

  struct answer {
    unsigned status;
    json::value body;
  };
  answer call(const std::string& method, const std::string& path, const json::value& body = {},
              const std::string& token = "") {
    const auto r = api.handle({method, path, token.empty() ? root : token, body.is_null() ? "" : json::dump(body)});
    return {r.status, r.body.empty() ? json::value{} : json::parse(r.body).value()};
  }
  std::string token_for(const std::string& name, std::initializer_list<const char*> rules) {
    policy p{name, {}};
    for (const auto* r : rules) p.rules.push_back(parse_rule(r).value());
    REQUIRE(tokens->write_policy(p));
    return tokens->create_token({name}, name, std::nullopt).value().token;
  }
};

std::string first_error(const json::value& body) { return *(*body.find("errors")->as_array()).front().as_string(); }

}  // namespace

TEST_CASE_FIXTURE(fixture, "create, read, encrypt, rotate, decrypt both versions, as Vault's API does") {
  CHECK(call("POST", "/v1/transit/keys/orders", json::object{{"type", "aes256-gcm96"}}).status == 200);
  auto key = call("GET", "/v1/transit/keys/orders");
  REQUIRE(key.status == 200);
  CHECK(*key.body["data"]["type"].as_string() == "aes256-gcm96");
  CHECK(key.body["data"]["latest_version"].as_int() == 1);
  CHECK(key.body["data"]["keys"].find("1"));

  auto v1 = call("POST", "/v1/transit/encrypt/orders", json::object{{"plaintext", b64("card 4111")}});
  REQUIRE(v1.status == 200);
  const auto c1 = *v1.body["data"]["ciphertext"].as_string();
  CHECK(c1.starts_with("vault:v1:"));
  CHECK(call("POST", "/v1/transit/keys/orders/rotate").status == 200);
  const auto c2 = *call("POST", "/v1/transit/encrypt/orders", json::object{{"plaintext", b64("card 5500")}})
                       .body["data"]["ciphertext"]
                       .as_string();
  CHECK(c2.starts_with("vault:v2:"));
  CHECK(unb64(call("POST", "/v1/transit/decrypt/orders", json::object{{"ciphertext", c1}}).body["data"]["plaintext"]) ==
        "card 4111");
  CHECK(unb64(call("POST", "/v1/transit/decrypt/orders", json::object{{"ciphertext", c2}}).body["data"]["plaintext"]) ==
        "card 5500");

  CHECK(call("POST", "/v1/transit/keys/orders/config", json::object{{"min_decryption_version", 2}}).status == 200);
  auto old = call("POST", "/v1/transit/decrypt/orders", json::object{{"ciphertext", c1}});
  CHECK(old.status == 400);
  CHECK(first_error(old.body) == "ciphertext or signature version is disallowed by policy (too old)");

  auto listed = call("LIST", "/v1/transit/keys");
  CHECK(*listed.body["data"]["keys"].as_array() == json::array{"orders"});
  CHECK(call("GET", "/v1/transit/keys?list=true").status == 200);
}

TEST_CASE_FIXTURE(fixture, "batches answer per item, in order, with references, and a failed item makes it 400") {
  call("POST", "/v1/transit/keys/k");
  json::value batch;
  batch["batch_input"] = json::array{json::object{{"plaintext", b64("a")}, {"reference", "r1"}},
                                     json::object{{"plaintext", b64("b")}, {"reference", "r2"}}};
  auto sealed = call("POST", "/v1/transit/encrypt/k", batch);
  REQUIRE(sealed.status == 200);
  const auto& results = *sealed.body["data"]["batch_results"].as_array();
  REQUIRE(results.size() == 2);
  CHECK(*results[1].find("reference")->as_string() == "r2");

  json::value opening;
  opening["batch_input"] = json::array{json::object{{"ciphertext", *results[0].find("ciphertext")->as_string()}},
                                       json::object{{"ciphertext", "vault:v1:broken"}}};
  auto opened = call("POST", "/v1/transit/decrypt/k", opening);
  CHECK(opened.status == 400);
  const auto& out = *opened.body["data"]["batch_results"].as_array();
  CHECK(unb64(*out[0].find("plaintext")) == "a");
  CHECK(out[1].find("error"));
  opening["partial_failure_response_code"] = 207;
  CHECK(call("POST", "/v1/transit/decrypt/k", opening).status == 207);
}

TEST_CASE_FIXTURE(fixture, "derived keys with context, rewrap, datakeys, HMAC and verify, random bytes") {
  CHECK(call("POST", "/v1/transit/keys/tenants", json::object{{"derived", true}}).status == 200);
  const auto ctx = b64("tenant-1");
  const auto c = *call("POST", "/v1/transit/encrypt/tenants", json::object{{"plaintext", b64("x")}, {"context", ctx}})
                      .body["data"]["ciphertext"]
                      .as_string();
  CHECK(call("POST", "/v1/transit/decrypt/tenants", json::object{{"ciphertext", c}}).status == 400);
  CHECK(call("POST", "/v1/transit/decrypt/tenants", json::object{{"ciphertext", c}, {"context", b64("tenant-2")}})
            .status == 400);
  call("POST", "/v1/transit/keys/tenants/rotate");
  auto rewrapped = call("POST", "/v1/transit/rewrap/tenants", json::object{{"ciphertext", c}, {"context", ctx}});
  CHECK(rewrapped.body["data"]["key_version"].as_int() == 2);

  call("POST", "/v1/transit/keys/files");
  auto plain = call("POST", "/v1/transit/datakey/plaintext/files", json::object{{"bits", 256}});
  REQUIRE(plain.status == 200);
  const auto key = unb64(plain.body["data"]["plaintext"]);
  CHECK(key.size() == 32);
  CHECK(unb64(call("POST", "/v1/transit/decrypt/files", json::object{{"ciphertext", plain.body["data"]["ciphertext"]}})
                  .body["data"]["plaintext"]) == key);
  auto wrapped = call("POST", "/v1/transit/datakey/wrapped/files");
  CHECK_FALSE(wrapped.body["data"].find("plaintext"));
  CHECK(call("POST", "/v1/transit/datakey/plaintext/files", json::object{{"bits", 100}}).status == 400);

  const auto mac = call("POST", "/v1/transit/hmac/files", json::object{{"input", b64("m")}}).body["data"]["hmac"];
  CHECK(call("POST", "/v1/transit/verify/files", json::object{{"input", b64("m")}, {"hmac", mac}})
            .body["data"]["valid"] == json::value(true));
  CHECK(call("POST", "/v1/transit/verify/files/sha2-256", json::object{{"input", b64("n")}, {"hmac", mac}})
            .body["data"]["valid"] == json::value(false));
  CHECK(call("POST", "/v1/transit/hmac/files/sha2-512", json::object{{"input", b64("m")}}).status == 400);

  CHECK(unb64(call("POST", "/v1/transit/random/24").body["data"]["random_bytes"]).size() == 24);
  CHECK(call("POST", "/v1/transit/random", json::object{{"bytes", 8}, {"format", "hex"}})
            .body["data"]["random_bytes"]
            .as_string()
            ->size() == 16);
  CHECK(call("POST", "/v1/transit/random/0").status == 400);
}

TEST_CASE_FIXTURE(fixture, "policies: encrypt-only cannot decrypt, and the refusal is logged with the accessor only") {
  call("POST", "/v1/transit/keys/purchases");
  const auto producer = token_for("producer", {"purchases:encrypt"});
  const auto accessor = tokens->lookup(producer)->accessor;
  auto sealed = call("POST", "/v1/transit/encrypt/purchases", json::object{{"plaintext", b64("p")}}, producer);
  REQUIRE(sealed.status == 200);
  auto refused = call("POST", "/v1/transit/decrypt/purchases",
                      json::object{{"ciphertext", sealed.body["data"]["ciphertext"]}}, producer);
  CHECK(refused.status == 403);
  CHECK(first_error(refused.body) == "permission denied");
  CHECK(log.eventually_contains("refused decrypt on key 'purchases' for token accessor " + accessor));
  CHECK_FALSE(log.contains(producer.substr(4)));
  CHECK(call("POST", "/v1/transit/keys/purchases/rotate", {}, producer).status == 403);
  CHECK(call("POST", "/v1/transit/encrypt/other", json::object{{"plaintext", b64("p")}}, producer).status == 403);

  const auto anonymous = api.handle({"POST", "/v1/transit/encrypt/purchases", "", R"({"plaintext":"cA=="})"});
  CHECK(anonymous.status == 403);
  CHECK(log.eventually_contains("for token accessor (none): no token"));
}

TEST_CASE_FIXTURE(fixture, "encrypt makes a missing key when the token may create it (Vault's upsert), else 400") {
  auto made = call("POST", "/v1/transit/encrypt/fresh", json::object{{"plaintext", b64("x")}});
  CHECK(made.status == 200);
  CHECK(call("GET", "/v1/transit/keys/fresh").status == 200);
  const auto encrypt_only = token_for("enc", {"*:encrypt"});
  auto missing = call("POST", "/v1/transit/encrypt/absent", json::object{{"plaintext", b64("x")}}, encrypt_only);
  CHECK(missing.status == 400);
  CHECK(first_error(missing.body).find("encryption key not found") == 0);
}

TEST_CASE_FIXTURE(fixture, "bad input gets Vault's error shape and status, and the key is unchanged") {
  auto missing = call("GET", "/v1/transit/keys/nosuch");
  CHECK(missing.status == 404);
  CHECK(missing.body["errors"].as_array()->empty());
  CHECK(call("GET", "/v1/secret/data/x").status == 404);
  CHECK(call("GET", "/v1/transit/encrypt/k").status == 405);
  const auto not_json = api.handle({"POST", "/v1/transit/keys/k", root, "{"});
  CHECK(not_json.status == 400);
  CHECK(not_json.body.find("failed to parse JSON input") != std::string::npos);
  CHECK(call("POST", "/v1/transit/keys/k", json::object{{"type", "rsa-4096"}}).status == 400);
  CHECK(call("POST", "/v1/transit/keys/k", json::object{{"exportable", true}}).status == 400);
  call("POST", "/v1/transit/keys/k");
  CHECK(first_error(call("POST", "/v1/transit/encrypt/k", json::object{{"plaintext", "not base64!"}}).body)
            .find("base64") != std::string::npos);
  CHECK(first_error(call("DELETE", "/v1/transit/keys/k").body) == "deletion is not allowed for this key");
  CHECK(call("POST", "/v1/transit/keys/k/config", json::object{{"deletion_allowed", true}}).status == 200);
  CHECK(call("DELETE", "/v1/transit/keys/k").status == 204);
  CHECK(call("GET", "/v1/transit/keys/k").status == 404);
}

TEST_CASE_FIXTURE(fixture, "lookup-self names the token's policies; health needs no token") {
  const auto t = token_for("app", {"orders:encrypt"});
  auto self = call("GET", "/v1/auth/token/lookup-self", {}, t);
  REQUIRE(self.status == 200);
  CHECK(*self.body["data"]["policies"].as_array() == json::array{"app"});
  CHECK(api.handle({"GET", "/v1/auth/token/lookup-self", "hvs.nope", ""}).status == 403);
  CHECK(api.handle({"GET", "/v1/sys/health", "", ""}).status == 200);
}
