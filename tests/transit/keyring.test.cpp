// The transit keyring: versions, rotation, min_decryption_version, derived keys, HMACs, trimming
// and deletion, and what survives a restart.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "nodus/core/base64.hpp"
#include "nodus/transit/keyring.hpp"
#include "temp_dir.hpp"

using namespace nodus;
using namespace nodus::transit;

namespace {

bytes text_bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string text_of(const vault::secret& s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

std::shared_ptr<keyring> memory_keyring() { return keyring::open(vault::vault::create_in_memory(), "").value(); }

std::string reason(const failure& f) { return f.message(); }

}  // namespace

TEST_CASE("both key types encrypt and decrypt, with Vault's ciphertext text") {
  auto ring = memory_keyring();
  for (const auto type : {key_type::aes256_gcm96, key_type::chacha20_poly1305}) {
    const std::string name = std::string(type_name(type));
    REQUIRE(ring->create(name, type, false));
    auto sealed = ring->encrypt(name, text_bytes("4111 1111 1111 1111"), {});
    REQUIRE(sealed);
    CHECK(sealed.value().key_version == 1);
    CHECK(sealed.value().ciphertext.starts_with("vault:v1:"));
    const auto raw = base64_decode(sealed.value().ciphertext.substr(9));
    REQUIRE(raw);
    CHECK(raw->size() == 12 + 19 + 16);  // nonce, text, tag
    auto opened = ring->decrypt(name, sealed.value().ciphertext, {});
    REQUIRE(opened);
    CHECK(text_of(opened.value()) == "4111 1111 1111 1111");
    CHECK(ring->read(name).value().type == type);
  }
  // Two encryptions of one plaintext differ (a random nonce each).
  CHECK(ring->encrypt("aes256-gcm96", text_bytes("x"), {}).value().ciphertext !=
        ring->encrypt("aes256-gcm96", text_bytes("x"), {}).value().ciphertext);
}

TEST_CASE("creating a key that exists changes nothing") {
  auto ring = memory_keyring();
  bool created = false;
  REQUIRE(ring->create("orders", key_type::aes256_gcm96, false, &created));
  CHECK(created);
  const auto sealed = ring->encrypt("orders", text_bytes("a"), {}).value();
  REQUIRE(ring->create("orders", key_type::chacha20_poly1305, true, &created));
  CHECK_FALSE(created);
  CHECK(ring->read("orders").value().type == key_type::aes256_gcm96);
  CHECK(ring->decrypt("orders", sealed.ciphertext, {}));
  CHECK(reason(ring->create("bad name", key_type::aes256_gcm96, false).error()).find("invalid key name") == 0);
}

TEST_CASE("rotation: new ciphertexts use the new version, old ones still decrypt until min_decryption_version") {
  auto ring = memory_keyring();
  REQUIRE(ring->create("orders", key_type::aes256_gcm96, false));
  const auto v1 = ring->encrypt("orders", text_bytes("first"), {}).value();
  const auto rotated = ring->rotate("orders");
  REQUIRE(rotated);
  CHECK(rotated.value().latest_version == 2);
  CHECK(rotated.value().versions.size() == 2);
  const auto v2 = ring->encrypt("orders", text_bytes("second"), {}).value();
  CHECK(v2.ciphertext.starts_with("vault:v2:"));
  CHECK(text_of(ring->decrypt("orders", v1.ciphertext, {}).value()) == "first");
  CHECK(text_of(ring->decrypt("orders", v2.ciphertext, {}).value()) == "second");

  // An explicit older version still seals, until min_encryption_version forbids it.
  CHECK(ring->encrypt("orders", text_bytes("x"), {}, 1).value().key_version == 1);

  REQUIRE(ring->configure("orders", {.min_decryption_version = 2}));
  const auto refused = ring->decrypt("orders", v1.ciphertext, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == transit_errc::invalid_request);
  CHECK(reason(refused.error()) == "ciphertext or signature version is disallowed by policy (too old)");
  CHECK(ring->decrypt("orders", v2.ciphertext, {}));

  // Rewrapping brings an old ciphertext to the latest version without the plaintext leaving.
  REQUIRE(ring->configure("orders", {.min_decryption_version = 1}));
  REQUIRE(ring->rotate("orders"));
  const auto rewrapped = ring->rewrap("orders", v1.ciphertext, {});
  REQUIRE(rewrapped);
  CHECK(rewrapped.value().key_version == 3);
  CHECK(text_of(ring->decrypt("orders", rewrapped.value().ciphertext, {}).value()) == "first");

  CHECK(reason(ring->configure("orders", {.min_decryption_version = 9}).error()).find("the latest version is 3") !=
        std::string::npos);
}

TEST_CASE("a derived key needs the context, and one context does not open another's ciphertexts") {
  auto ring = memory_keyring();
  REQUIRE(ring->create("tenants", key_type::aes256_gcm96, true));
  const auto alice = text_bytes("tenant-alice"), bob = text_bytes("tenant-bob");
  const auto sealed = ring->encrypt("tenants", text_bytes("secret"), alice);
  REQUIRE(sealed);
  CHECK(text_of(ring->decrypt("tenants", sealed.value().ciphertext, alice).value()) == "secret");
  CHECK(reason(ring->decrypt("tenants", sealed.value().ciphertext, bob).error()) ==
        "cipher: message authentication failed");
  CHECK(reason(ring->encrypt("tenants", text_bytes("x"), {}).error()).find("missing 'context'") == 0);
  REQUIRE(ring->create("plain", key_type::aes256_gcm96, false));
  CHECK(reason(ring->encrypt("plain", text_bytes("x"), alice).error()).find("not derived") != std::string::npos);
}

TEST_CASE("a changed ciphertext, a bad prefix, an unknown version or key is refused with Vault's reason") {
  auto ring = memory_keyring();
  REQUIRE(ring->create("k", key_type::aes256_gcm96, false));
  const auto sealed = ring->encrypt("k", text_bytes("hello"), {}, 0, text_bytes("aad")).value().ciphertext;
  CHECK(ring->decrypt("k", sealed, {}, text_bytes("aad")));
  CHECK(reason(ring->decrypt("k", sealed, {}, text_bytes("other")).error()) == "cipher: message authentication failed");
  auto raw = base64_decode(sealed.substr(9)).value();
  raw[14] ^= 1;
  CHECK(reason(ring->decrypt("k", "vault:v1:" + base64_encode(raw), {}, text_bytes("aad")).error()) ==
        "cipher: message authentication failed");
  CHECK(reason(ring->decrypt("k", "nope", {}).error()) == "invalid ciphertext: no prefix");
  CHECK(reason(ring->decrypt("k", "vault:vx:AAAA", {}).error()) ==
        "invalid ciphertext: version number could not be decoded");
  CHECK(reason(ring->decrypt("k", "vault:v1", {}).error()) == "invalid ciphertext: wrong number of fields");
  CHECK(reason(ring->decrypt("k", "vault:v1:***", {}).error()) == "invalid ciphertext: could not decode base64");
  CHECK(reason(ring->decrypt("k", "vault:v1:AAAA", {}).error()) == "invalid ciphertext: too short");
  CHECK(reason(ring->decrypt("k", "vault:v7:" + sealed.substr(9), {}).error()).find("does not exist") !=
        std::string::npos);
  const auto missing = ring->decrypt("nosuch", sealed, {});
  CHECK(missing.error().code == transit_errc::key_not_found);
}

TEST_CASE("HMACs verify with the version that made them, and not after a change") {
  auto ring = memory_keyring();
  REQUIRE(ring->create("k", key_type::aes256_gcm96, false));
  const auto mac = ring->hmac("k", text_bytes("message")).value();
  CHECK(mac.starts_with("vault:v1:"));
  CHECK(ring->verify_hmac("k", text_bytes("message"), mac).value());
  CHECK_FALSE(ring->verify_hmac("k", text_bytes("massage"), mac).value());
  REQUIRE(ring->rotate("k"));
  CHECK(ring->hmac("k", text_bytes("message")).value().starts_with("vault:v2:"));
  CHECK(ring->verify_hmac("k", text_bytes("message"), mac).value());
}

TEST_CASE("trimming deletes old versions for good; deleting needs deletion_allowed") {
  auto v = vault::vault::create_in_memory();
  auto ring = keyring::open(v, "").value();
  REQUIRE(ring->create("k", key_type::aes256_gcm96, false));
  const auto v1 = ring->encrypt("k", text_bytes("old"), {}).value();
  REQUIRE(ring->rotate("k"));
  REQUIRE(ring->rotate("k"));
  CHECK(v->list().size() == 6);  // an AEAD and an HMAC key per version
  CHECK(reason(ring->trim("k", 2).error()).find("min_decryption_version") != std::string::npos);
  REQUIRE(ring->configure("k", {.min_decryption_version = 2}));
  const auto trimmed = ring->trim("k", 2);
  REQUIRE(trimmed);
  CHECK(trimmed.value().versions.size() == 2);
  CHECK(v->list().size() == 4);
  REQUIRE(ring->configure("k", {.min_decryption_version = 1}));  // cannot go below what is kept
  CHECK(ring->read("k").value().min_decryption_version == 2);
  CHECK_FALSE(ring->decrypt("k", v1.ciphertext, {}));

  CHECK(reason(ring->remove("k").error()) == "deletion is not allowed for this key");
  REQUIRE(ring->configure("k", {.deletion_allowed = true}));
  REQUIRE(ring->remove("k"));
  CHECK(v->list().empty());
  CHECK(ring->read("k").error().code == transit_errc::key_not_found);
}

TEST_CASE("keys and settings survive a restart in a private state file") {
  test::temp_dir dir("nodus-transit-keyring");
  std::string v1, v2;
  {
    auto v = vault::vault::open_directory(dir.path / "vault").value();
    auto ring = keyring::open(v, dir.path / "transit-keys.json").value();
    REQUIRE(ring->create("orders", key_type::chacha20_poly1305, false));
    v1 = ring->encrypt("orders", text_bytes("one"), {}).value().ciphertext;
    REQUIRE(ring->rotate("orders"));
    v2 = ring->encrypt("orders", text_bytes("two"), {}).value().ciphertext;
    REQUIRE(ring->configure("orders", {.min_encryption_version = 2}));
  }
  auto v = vault::vault::open_directory(dir.path / "vault").value();
  auto ring = keyring::open(v, dir.path / "transit-keys.json").value();
  const auto k = ring->read("orders").value();
  CHECK(k.type == key_type::chacha20_poly1305);
  CHECK(k.latest_version == 2);
  CHECK(k.min_encryption_version == 2);
  CHECK(text_of(ring->decrypt("orders", v1, {}).value()) == "one");
  CHECK(text_of(ring->decrypt("orders", v2, {}).value()) == "two");
  CHECK(reason(ring->encrypt("orders", text_bytes("x"), {}, 1).error()).find("minimum encryption key version") !=
        std::string::npos);

  std::ifstream in(dir.path / "transit-keys.json");
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().find("\"aead_key\"") != std::string::npos);
  CHECK((std::filesystem::status(dir.path / "transit-keys.json").permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);

  // A state file naming a vault key that is gone is an error that says which.
  for (const auto& id : v->list()) (void)v->remove(id);
  auto broken = keyring::open(v, dir.path / "transit-keys.json");
  REQUIRE_FALSE(broken);
  CHECK(reason(broken.error()).find("its vault key is missing") != std::string::npos);
}
