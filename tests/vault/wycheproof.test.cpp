// Wycheproof vectors (third_party/wycheproof) through the vault's public API. Every `valid`
// case must pass and every `invalid` one be refused. `acceptable` X25519 cases (twist points,
// non-canonical and low-order public keys) are computed as RFC 7748 says, except those whose
// shared secret is all zero: the vault refuses them with errc::weak_shared_secret, as a secure
// channel must (a low-order key lets a peer force a known secret).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "nodus/vault/vault.hpp"

#ifndef NODUS_THIRD_PARTY_DIR
#error "NODUS_THIRD_PARTY_DIR must name the repository's third_party directory"
#endif

using namespace nodus::vault;
using nodus::byte_view;
using nodus::bytes;
using json = nlohmann::json;

namespace {

bytes hex(const std::string& text) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  return out;
}

json load(const std::string& name) {
  std::ifstream in(std::string(NODUS_THIRD_PARTY_DIR) + "/wycheproof/" + name);
  REQUIRE_MESSAGE(in.good(), "cannot read third_party/wycheproof/" << name);
  return json::parse(in);
}

// How many cases of one file were checked, by expected result, and how many were skipped.
struct tally {
  std::map<std::string, int> checked;
  int skipped = 0;
  int total() const {
    int n = 0;
    for (const auto& [result, count] : checked) n += count;
    return n;
  }
  void report(const std::string& file, const json& doc, int minimum) {
    std::string text = file + ": " + std::to_string(total()) + " checked (";
    for (const auto& [result, count] : checked) text += std::to_string(count) + " " + result + ", ";
    text += std::to_string(skipped) + " skipped, " + std::to_string(doc.at("numberOfTests").get<int>()) + " in file)";
    MESSAGE(text);
    CHECK(total() + skipped == doc.at("numberOfTests").get<int>());
    CHECK(total() >= minimum);  // a test that read nothing must not pass
  }
};

// Runs `check(group, test)` on every case; it returns false for a case it skips.
template <class F>
tally for_each_case(const json& doc, F check) {
  tally t;
  for (const auto& group : doc.at("testGroups"))
    for (const auto& test : group.at("tests")) {
      CAPTURE(test.at("tcId").get<int>());
      CAPTURE(test.at("comment").get<std::string>());
      if (check(group, test))
        ++t.checked[test.at("result").get<std::string>()];
      else
        ++t.skipped;
    }
  return t;
}

// Derived secrets never leave the vault: compare them through the MAC of a probe message.
bytes probe(vault& v, const key_id& key) { return v.hmac_sha256(key, nodus::as_bytes("wycheproof probe")).value(); }

bool holds(vault& v, const key_id& key, byte_view expected) {
  auto id = v.import_secret(key_type::secret_bytes, expected).value();
  const bool same = probe(v, key) == probe(v, id);
  (void)v.remove(id);
  return same;
}

bool all_zero(const bytes& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

}  // namespace

TEST_CASE("Wycheproof X25519") {
  auto v = vault::create_in_memory();
  const json doc = load("x25519_test.json");
  int zero_refused = 0;
  auto t = for_each_case(doc, [&](const json& group, const json& test) {
    REQUIRE(group.at("curve") == "curve25519");
    const auto shared = hex(test.at("shared"));
    const auto result = test.at("result").get<std::string>();
    auto key = v->import_secret(key_type::x25519, hex(test.at("private")));
    REQUIRE(key);
    auto agreed = v->x25519_agree(key.value(), hex(test.at("public")));
    if (all_zero(shared)) {
      CHECK(result == "acceptable");
      REQUIRE_FALSE(agreed);
      CHECK(agreed.error() == errc::weak_shared_secret);
      ++zero_refused;
    } else {
      CHECK(result != "invalid");  // the file has none; an invalid case would need a refusal here
      REQUIRE(agreed);
      CHECK(holds(*v, agreed.value(), shared));
      (void)v->remove(agreed.value());
    }
    (void)v->remove(key.value());
    return true;
  });
  MESSAGE("x25519: " << zero_refused << " all-zero shared secrets refused with weak_shared_secret");
  t.report("x25519_test.json", doc, 500);
  CHECK(v->list().empty());
}

TEST_CASE("Wycheproof Ed25519 verification") {
  const json doc = load("ed25519_test.json");
  auto t = for_each_case(doc, [&](const json& group, const json& test) {
    const bool ok = verify_ed25519(hex(group.at("publicKey").at("pk")), hex(test.at("msg")), hex(test.at("sig")));
    CHECK(ok == (test.at("result") == "valid"));
    return true;
  });
  t.report("ed25519_test.json", doc, 150);
}

namespace {

// One AEAD case: `valid` ones must seal to ct||tag and open back; `invalid` ones must be
// refused without touching the output. Nonces of any size but 12 are refused by the API.
void check_aead(vault& v, key_type type, const json& test) {
  const auto key = v.import_secret(type, hex(test.at("key"))).value();
  auto cipher = v.aead(key).value();
  const auto iv = hex(test.at("iv")), aad = hex(test.at("aad")), msg = hex(test.at("msg"));
  bytes sealed_expected = hex(test.at("ct"));
  const auto tag = hex(test.at("tag"));
  sealed_expected.insert(sealed_expected.end(), tag.begin(), tag.end());
  const bytes untouched{0xee};
  bytes opened = untouched;
  auto open = cipher.open(iv, aad, sealed_expected, opened);
  if (test.at("result") == "valid") {
    bytes sealed;
    REQUIRE(cipher.seal(iv, aad, msg, sealed));
    CHECK(sealed == sealed_expected);
    REQUIRE(open);
    CHECK(byte_view(opened).subspan(1).size() == msg.size());
    CHECK(std::equal(msg.begin(), msg.end(), opened.begin() + 1));
  } else {
    REQUIRE_FALSE(open);
    CHECK((open.error() == errc::authentication_failed ||
           (iv.size() != aead_nonce_size && open.error() == errc::invalid_argument)));
    CHECK(opened == untouched);
  }
  (void)v.remove(key);
}

}  // namespace

TEST_CASE("Wycheproof AES-GCM (256-bit keys)") {
  auto v = vault::create_in_memory();
  const json doc = load("aes_gcm_test.json");
  auto t = for_each_case(doc, [&](const json& group, const json& test) {
    // The vault has AES-256 only and 12-byte nonces only: other key sizes cannot be imported,
    // and a valid case with another nonce size is one the API refuses by design.
    if (group.at("keySize") != 256 || group.at("tagSize") != 128) return false;
    if (group.at("ivSize") != 96 && test.at("result") == "valid") return false;
    check_aead(*v, key_type::aes256_gcm, test);
    return true;
  });
  t.report("aes_gcm_test.json", doc, 60);
}

TEST_CASE("Wycheproof ChaCha20-Poly1305") {
  auto v = vault::create_in_memory();
  const json doc = load("chacha20_poly1305_test.json");
  auto t = for_each_case(doc, [&](const json& group, const json& test) {
    if (group.at("keySize") != 256 || group.at("tagSize") != 128) return false;
    if (group.at("ivSize") != 96 && test.at("result") == "valid") return false;
    check_aead(*v, key_type::chacha20_poly1305, test);
    return true;
  });
  t.report("chacha20_poly1305_test.json", doc, 320);
}

TEST_CASE("Wycheproof HKDF-SHA256") {
  auto v = vault::create_in_memory();
  const json doc = load("hkdf_sha256_test.json");
  auto t = for_each_case(doc, [&](const json&, const json& test) {
    const auto ikm = v->import_secret(key_type::secret_bytes, hex(test.at("ikm"))).value();
    const auto salt = v->import_secret(key_type::secret_bytes, hex(test.at("salt"))).value();
    const derived_key out[] = {{key_type::secret_bytes, test.at("size").get<std::size_t>()}};
    auto okm = v->hkdf_sha256(salt, ikm, hex(test.at("info")), out);
    if (test.at("result") == "valid") {
      REQUIRE(okm);
      REQUIRE(okm.value().size() == 1);
      CHECK(holds(*v, okm.value()[0], hex(test.at("okm"))));
      (void)v->remove(okm.value()[0]);
    } else {
      REQUIRE_FALSE(okm);
      CHECK(okm.error() == errc::invalid_argument);
    }
    (void)v->remove(ikm);
    (void)v->remove(salt);
    return true;
  });
  t.report("hkdf_sha256_test.json", doc, 80);
  CHECK(v->list().empty());
}

TEST_CASE("Wycheproof HMAC-SHA256") {
  auto v = vault::create_in_memory();
  const json doc = load("hmac_sha256_test.json");
  auto t = for_each_case(doc, [&](const json& group, const json& test) {
    const auto key = v->import_secret(key_type::secret_bytes, hex(test.at("key"))).value();
    auto mac = v->hmac_sha256(key, hex(test.at("msg"))).value();
    mac.resize(group.at("tagSize").get<std::size_t>() / 8);  // truncated tags compare their prefix
    CHECK((mac == hex(test.at("tag"))) == (test.at("result") == "valid"));
    (void)v->remove(key);
    return true;
  });
  t.report("hmac_sha256_test.json", doc, 170);
}
