// The vault's cryptography through its public API: round trips, refusals, known answers.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "hex.hpp"
#include "nodus/core/error.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus::vault;
using nodus::byte_view;
using nodus::bytes;

namespace {

using nodus::test::hex;

bytes text_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

// Secrets never leave the vault: two keys hold the same bytes when they MAC a probe alike.
bytes probe(vault& v, const key_id& key) {
  return v.hmac_sha256(key, nodus::as_bytes("probe: are these the same bytes?")).value();
}

bytes probe_of_bytes(vault& v, byte_view expected) {
  auto id = v.import_secret(key_type::secret_bytes, expected).value();
  auto mac = probe(v, id);
  (void)v.remove(id);
  return mac;
}

const bytes nonce0(aead_nonce_size, 0);

}  // namespace

TEST_CASE("sha256 and random_bytes") {
  CHECK(sha256(nodus::as_bytes("abc")) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK(sha256({}) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  auto a = random_bytes(32), b = random_bytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(random_bytes(0).empty());
}

TEST_CASE("generated keys are listed, typed and removed") {
  auto v = vault::create_in_memory();
  CHECK(v->directory().empty());
  std::vector<key_id> ids;
  for (auto type : {key_type::x25519, key_type::ed25519, key_type::aes256_gcm, key_type::chacha20_poly1305,
                    key_type::secret_bytes}) {
    auto id = v->generate(type);
    REQUIRE(id);
    CHECK(v->type_of(id.value()).value() == type);
    for (char c : id.value().value) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'));
    ids.push_back(id.value());
  }
  std::sort(ids.begin(), ids.end());
  CHECK(v->list() == ids);
  for (const auto& id : ids) REQUIRE(v->remove(id));
  CHECK(v->list().empty());
  auto again = v->remove(ids.front());
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::unknown_key);
  CHECK(again.error().message().find(ids.front().value) != std::string::npos);
}

TEST_CASE("Ed25519: RFC 8032 test 1, signatures verify and a flipped bit does not") {
  auto v = vault::create_in_memory();
  auto key =
      v->import_secret(key_type::ed25519, hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  REQUIRE(key);
  auto pub = v->public_key(key.value()).value();
  CHECK(pub == hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  auto sig = v->sign(key.value(), {}).value();
  CHECK(sig == hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25"
                   "bf5f0595bbe24655141438e7a100b"));
  CHECK(verify_ed25519(pub, {}, sig));

  auto fresh = v->generate(key_type::ed25519).value();
  auto fresh_pub = v->public_key(fresh).value();
  auto message = text_bytes("the message");
  auto fresh_sig = v->sign(fresh, message).value();
  REQUIRE(fresh_sig.size() == 64);
  CHECK(verify_ed25519(fresh_pub, message, fresh_sig));
  CHECK_FALSE(verify_ed25519(pub, message, fresh_sig));
  for (std::size_t bit = 0; bit < 64 * 8; bit += 7) {
    auto bad = fresh_sig;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1 << (bit % 8));
    CHECK_FALSE(verify_ed25519(fresh_pub, message, bad));
  }
  auto bad_message = message;
  bad_message[0] ^= 1;
  CHECK_FALSE(verify_ed25519(fresh_pub, bad_message, fresh_sig));
  CHECK_FALSE(verify_ed25519(byte_view(fresh_pub).first(31), message, fresh_sig));
  CHECK_FALSE(verify_ed25519(fresh_pub, message, byte_view(fresh_sig).first(63)));
}

TEST_CASE("X25519: RFC 7748 section 6.1 and agreement commutes") {
  auto v = vault::create_in_memory();
  auto alice =
      v->import_secret(key_type::x25519, hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
          .value();
  auto bob = v->import_secret(key_type::x25519, hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
                 .value();
  CHECK(v->public_key(alice).value() == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  CHECK(v->public_key(bob).value() == hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
  auto ab = v->x25519_agree(alice, v->public_key(bob).value()).value();
  auto ba = v->x25519_agree(bob, v->public_key(alice).value()).value();
  CHECK(v->type_of(ab).value() == key_type::secret_bytes);
  CHECK(probe(*v, ab) == probe(*v, ba));
  CHECK(probe(*v, ab) == probe_of_bytes(*v, hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")));

  auto c = v->generate(key_type::x25519).value(), d = v->generate(key_type::x25519).value();
  auto cd = v->x25519_agree(c, v->public_key(d).value()).value();
  auto dc = v->x25519_agree(d, v->public_key(c).value()).value();
  CHECK(probe(*v, cd) == probe(*v, dc));
  CHECK(probe(*v, cd) != probe(*v, ab));
}

TEST_CASE("X25519: low-order peer keys and bad sizes are refused") {
  auto v = vault::create_in_memory();
  auto key = v->generate(key_type::x25519).value();
  const auto before = v->list().size();
  // 0 and 1 are points of small order: every private key gives the all-zero secret.
  for (auto peer : {bytes(32, 0), hex("0100000000000000000000000000000000000000000000000000000000000000")}) {
    auto shared = v->x25519_agree(key, peer);
    REQUIRE_FALSE(shared);
    CHECK(shared.error() == errc::weak_shared_secret);
    CHECK(shared.error() == nodus::condition::denied);
  }
  CHECK(v->x25519_agree(key, bytes(31, 9)).error() == errc::invalid_key);
  CHECK(v->x25519_agree(key, bytes(33, 9)).error() == errc::invalid_key);
  CHECK(v->list().size() == before);  // nothing left behind by the refusals
}

TEST_CASE("imports check sizes and types") {
  auto v = vault::create_in_memory();
  for (auto type : {key_type::x25519, key_type::ed25519, key_type::aes256_gcm, key_type::chacha20_poly1305}) {
    CAPTURE(static_cast<int>(type));
    for (std::size_t size : {0, 16, 31, 33, 64}) {
      auto id = v->import_secret(type, bytes(size, 7));
      REQUIRE_FALSE(id);
      CHECK(id.error().code == errc::invalid_key);
      CHECK(id.error().code == nodus::condition::invalid_argument);
      CHECK_FALSE(id.error().reason.empty());
    }
    CHECK(v->import_secret(type, bytes(32, 7)));
  }
  for (std::size_t size : {0, 1, 32, 100}) CHECK(v->import_secret(key_type::secret_bytes, bytes(size, 7)));
  auto unknown = v->import_secret(static_cast<key_type>(42), bytes(32, 7));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == errc::invalid_argument);
  CHECK(v->generate(static_cast<key_type>(0)).error().code == errc::invalid_argument);
}

TEST_CASE("operations refuse unknown ids and keys of the wrong type") {
  auto v = vault::create_in_memory();
  const key_id missing{"x25519-0000000000000000"};
  const auto peer = bytes(32, 9);
  CHECK(v->type_of(missing).error() == errc::unknown_key);
  CHECK(v->public_key(missing).error() == errc::unknown_key);
  CHECK(v->x25519_agree(missing, peer).error() == errc::unknown_key);
  CHECK(v->sign(missing, {}).error() == errc::unknown_key);
  CHECK(v->hmac_sha256(missing, {}).error() == errc::unknown_key);
  CHECK(v->aead(missing).error() == errc::unknown_key);
  CHECK(v->aead(missing).error() == nodus::condition::not_found);
  const derived_key one[] = {derived_key{}};
  auto salt = v->generate(key_type::secret_bytes).value();
  CHECK(v->hkdf_sha256(missing, std::nullopt, {}, one).error() == errc::unknown_key);
  CHECK(v->hkdf_sha256(salt, missing, {}, one).error() == errc::unknown_key);

  auto x = v->generate(key_type::x25519).value();
  auto ed = v->generate(key_type::ed25519).value();
  auto aes = v->generate(key_type::aes256_gcm).value();
  CHECK(v->sign(x, {}).error() == errc::wrong_key_type);
  CHECK(v->x25519_agree(ed, peer).error() == errc::wrong_key_type);
  CHECK(v->public_key(aes).error() == errc::wrong_key_type);
  CHECK(v->public_key(salt).error() == errc::wrong_key_type);
  CHECK(v->aead(x).error() == errc::wrong_key_type);
  CHECK(v->aead(salt).error() == errc::wrong_key_type);
  CHECK(v->hmac_sha256(aes, {}));  // any key's bytes may key a MAC
}

TEST_CASE("AEAD: round trips at every size and both algorithms") {
  auto v = vault::create_in_memory();
  for (auto type : {key_type::aes256_gcm, key_type::chacha20_poly1305}) {
    CAPTURE(static_cast<int>(type));
    auto key = v->generate(type).value();
    auto sender = v->aead(key).value();
    auto receiver = v->aead(key).value();
    CHECK(sender.algorithm() == type);
    for (std::size_t size : {0, 1, 15, 16, 17, 64, 1000, 65536}) {
      CAPTURE(size);
      bytes plain(size);
      for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 31 + 7);
      auto nonce = random_bytes(aead_nonce_size);
      bytes sealed = text_bytes("head");
      REQUIRE(sender.seal(nonce, nodus::as_bytes("aad"), plain, sealed));
      REQUIRE(sealed.size() == 4 + size + aead_tag_size);
      if (size >= 16) CHECK(byte_view(sealed).subspan(4, size).first(16).size() == 16);
      bytes opened = text_bytes("prefix");
      REQUIRE(receiver.open(nonce, nodus::as_bytes("aad"), byte_view(sealed).subspan(4), opened));
      CHECK(opened == [&] {
        auto e = text_bytes("prefix");
        e.insert(e.end(), plain.begin(), plain.end());
        return e;
      }());
    }
  }
}

TEST_CASE("AEAD: AES-256-GCM known answer (GCM specification test case 13)") {
  // AES-256-GCM with a zero key, zero 12-byte nonce and empty input: the tag is a known value.
  auto v = vault::create_in_memory();
  auto key = v->import_secret(key_type::aes256_gcm, bytes(32, 0)).value();
  auto cipher = v->aead(key).value();
  bytes out;
  REQUIRE(cipher.seal(nonce0, {}, {}, out));
  CHECK(out == hex("530f8afbc74536b9a963b4f1c4cb738b"));
}

TEST_CASE("AEAD: a wrong key, nonce, aad or tag is refused and leaves out untouched") {
  auto v = vault::create_in_memory();
  for (auto type : {key_type::aes256_gcm, key_type::chacha20_poly1305}) {
    CAPTURE(static_cast<int>(type));
    auto key = v->generate(type).value();
    auto other = v->generate(type).value();
    auto cipher = v->aead(key).value();
    auto wrong_cipher = v->aead(other).value();
    const auto plain = text_bytes("attack at dawn, bring sixty-four bytes of payload to the meeting!");
    const auto nonce = random_bytes(aead_nonce_size);
    bytes sealed;
    REQUIRE(cipher.seal(nonce, nodus::as_bytes("aad"), plain, sealed));
    const bytes untouched = text_bytes("keep me");
    auto refused = [&](aead_cipher& c, byte_view n, std::string_view aad, byte_view ct) {
      bytes out = untouched;
      auto r = c.open(n, nodus::as_bytes(aad), ct, out);
      CHECK(out == untouched);
      return !r && r.error() == errc::authentication_failed && r.error() == nodus::condition::denied;
    };
    CHECK(refused(wrong_cipher, nonce, "aad", sealed));
    auto other_nonce = nonce;
    other_nonce[11] ^= 1;
    CHECK(refused(cipher, other_nonce, "aad", sealed));
    CHECK(refused(cipher, nonce, "aae", sealed));
    CHECK(refused(cipher, nonce, "", sealed));
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      auto bad = sealed;
      bad[i] ^= 0x80;
      CHECK(refused(cipher, nonce, "aad", bad));
    }
    CHECK(refused(cipher, nonce, "aad", byte_view(sealed).first(sealed.size() - 1)));
    CHECK(refused(cipher, nonce, "aad", byte_view(sealed).first(aead_tag_size - 1)));
    CHECK(refused(cipher, nonce, "aad", {}));
    bytes out;
    CHECK(cipher.open(nonce, nodus::as_bytes("aad"), sealed, out));  // the context still works
    CHECK(out == plain);
    CHECK(cipher.seal(bytes(11), {}, plain, out).error() == errc::invalid_argument);
    CHECK(cipher.open(bytes(13), {}, sealed, out).error() == errc::invalid_argument);
    CHECK(out == plain);
  }
}

TEST_CASE("AEAD: rekey follows Noise REKEY and both sides agree") {
  auto v = vault::create_in_memory();
  for (auto type : {key_type::aes256_gcm, key_type::chacha20_poly1305}) {
    CAPTURE(static_cast<int>(type));
    const bytes key_bytes = random_bytes(32);
    auto key = v->import_secret(type, key_bytes).value();
    auto sender = v->aead(key).value();
    auto receiver = v->aead(key).value();
    auto stale = v->aead(key).value();
    REQUIRE(sender.rekey());
    REQUIRE(receiver.rekey());
    const auto plain = text_bytes("after rekey");
    bytes sealed, opened;
    REQUIRE(sender.seal(nonce0, {}, plain, sealed));
    REQUIRE(receiver.open(nonce0, {}, sealed, opened));
    CHECK(opened == plain);
    bytes stale_out;
    CHECK(stale.open(nonce0, {}, sealed, stale_out).error() == errc::authentication_failed);

    // The new key is the first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zero bytes).
    bytes expected_key;
    const auto max_nonce = hex("00000000ffffffffffffffff");
    REQUIRE(stale.seal(max_nonce, {}, bytes(32, 0), expected_key));
    expected_key.resize(32);
    auto expected = v->aead(v->import_secret(type, expected_key).value()).value();
    bytes via_expected;
    REQUIRE(expected.open(nonce0, {}, sealed, via_expected));
    CHECK(via_expected == plain);
  }
}

TEST_CASE("HKDF-SHA256: RFC 5869 test cases 1 and 3, and split outputs") {
  auto v = vault::create_in_memory();
  const auto ikm = v->import_secret(key_type::secret_bytes, bytes(22, 0x0b)).value();
  const auto salt = v->import_secret(key_type::secret_bytes, hex("000102030405060708090a0b0c")).value();
  const derived_key forty_two[] = {{key_type::secret_bytes, 42}};
  auto okm1 = v->hkdf_sha256(salt, ikm, hex("f0f1f2f3f4f5f6f7f8f9"), forty_two).value();
  REQUIRE(okm1.size() == 1);
  CHECK(
      probe(*v, okm1[0]) ==
      probe_of_bytes(*v, hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")));

  const auto empty_salt = v->import_secret(key_type::secret_bytes, {}).value();
  auto okm3 = v->hkdf_sha256(empty_salt, ikm, {}, forty_two).value();
  const auto expected3 = hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  CHECK(probe(*v, okm3[0]) == probe_of_bytes(*v, expected3));

  // The same bytes cut into a 32-byte AEAD key and a 10-byte secret.
  const derived_key split[] = {{key_type::aes256_gcm, 32}, {key_type::secret_bytes, 10}};
  auto parts = v->hkdf_sha256(empty_salt, ikm, {}, split).value();
  REQUIRE(parts.size() == 2);
  CHECK(v->type_of(parts[0]).value() == key_type::aes256_gcm);
  CHECK(probe(*v, parts[0]) == probe_of_bytes(*v, byte_view(expected3).first(32)));
  CHECK(probe(*v, parts[1]) == probe_of_bytes(*v, byte_view(expected3).subspan(32)));

  // No input key is the empty input key material (Noise Split).
  const auto empty_ikm = v->import_secret(key_type::secret_bytes, {}).value();
  CHECK(probe(*v, v->hkdf_sha256(salt, std::nullopt, {}, forty_two).value()[0]) ==
        probe(*v, v->hkdf_sha256(salt, empty_ikm, {}, forty_two).value()[0]));
}

TEST_CASE("HKDF-SHA256: output limits") {
  auto v = vault::create_in_memory();
  auto salt = v->generate(key_type::secret_bytes).value();
  const derived_key most[] = {{key_type::secret_bytes, 255 * 32}};
  CHECK(v->hkdf_sha256(salt, std::nullopt, {}, most));
  const derived_key too_many[] = {{key_type::secret_bytes, 255 * 32 - 31}, {key_type::aes256_gcm, 32}};
  CHECK(v->hkdf_sha256(salt, std::nullopt, {}, too_many).error() == errc::invalid_argument);
  const derived_key short_aes[] = {{key_type::aes256_gcm, 16}};
  CHECK(v->hkdf_sha256(salt, std::nullopt, {}, short_aes).error() == errc::invalid_argument);
  CHECK(v->hkdf_sha256(salt, std::nullopt, {}, {}).error() == errc::invalid_argument);
  const auto before = v->list().size();
  const derived_key bad_type[] = {{key_type::secret_bytes, 32}, {static_cast<key_type>(9), 32}};
  CHECK(v->hkdf_sha256(salt, std::nullopt, {}, bad_type).error() == errc::invalid_argument);
  CHECK(v->list().size() == before);
}

TEST_CASE("error codes have a category, messages and conditions") {
  std::error_code ec = errc::corrupted_file;
  CHECK(std::string(ec.category().name()) == "nodus.vault");
  CHECK(ec.message() == "corrupted vault file");
  CHECK(ec == nodus::condition::protocol);
  CHECK(std::error_code(errc::unknown_key) == nodus::condition::not_found);
  CHECK(std::error_code(errc::not_found) == nodus::condition::not_found);
  CHECK(std::error_code(errc::untrusted_identity) == nodus::condition::denied);
  CHECK(std::error_code(errc::expired) == nodus::condition::denied);
  CHECK(std::error_code(errc::already_exists) == nodus::condition::invalid_argument);
  CHECK(std::error_code(errc::insecure_permissions) == nodus::condition::resource_exhausted);
  for (int e = 1; e <= static_cast<int>(errc::crypto_failure); ++e)
    CHECK(std::error_code(static_cast<errc>(e)).message() != "unknown vault error");
}

TEST_CASE("a vault is used from several threads at once") {
  auto v = vault::create_in_memory();
  auto shared_key = v->generate(key_type::ed25519).value();
  const auto pub = v->public_key(shared_key).value();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto mine = v->generate(key_type::x25519).value();
        auto sig = v->sign(shared_key, nodus::as_bytes("m")).value();
        if (verify_ed25519(pub, nodus::as_bytes("m"), sig) && v->remove(mine)) ++good;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(good == 200);
  CHECK(v->list().size() == 1);
}

TEST_CASE("AEAD: a clone keeps the current key and is independent") {
  auto v = vault::create_in_memory();
  for (auto type : {key_type::aes256_gcm, key_type::chacha20_poly1305}) {
    CAPTURE(static_cast<int>(type));
    auto key = v->generate(type).value();
    auto sender = v->aead(key).value();
    auto receiver = v->aead(key).value();
    REQUIRE(sender.rekey());
    REQUIRE(receiver.rekey());
    auto previous = receiver.clone().value();
    CHECK(previous.algorithm() == type);
    REQUIRE(receiver.rekey());  // the clone keeps the key it was made with
    bytes sealed, opened, refused;
    REQUIRE(sender.seal(nonce0, {}, nodus::as_bytes("old key"), sealed));
    REQUIRE(previous.open(nonce0, {}, sealed, opened));
    CHECK(opened == text_bytes("old key"));
    CHECK(receiver.open(nonce0, {}, sealed, refused).error() == errc::authentication_failed);
    REQUIRE(sender.rekey());
    sealed.clear();
    opened.clear();
    REQUIRE(sender.seal(nonce0, {}, nodus::as_bytes("new key"), sealed));
    REQUIRE(receiver.open(nonce0, {}, sealed, opened));
    CHECK(opened == text_bytes("new key"));
  }
}

TEST_CASE("AEAD: sealing and opening in place give the same bytes as the two-buffer forms") {
  auto v = vault::create_in_memory();
  for (auto type : {key_type::aes256_gcm, key_type::chacha20_poly1305}) {
    CAPTURE(static_cast<int>(type));
    auto key = v->generate(type).value();
    auto cipher = v->aead(key).value();
    for (std::size_t size : {0, 1, 17, 65536}) {
      CAPTURE(size);
      bytes plain(size);
      for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 13 + 1);
      auto nonce = random_bytes(aead_nonce_size);
      bytes sealed;
      REQUIRE(cipher.seal(nonce, nodus::as_bytes("aad"), plain, sealed));
      bytes in_place = plain;
      in_place.resize(size + aead_tag_size);
      REQUIRE(cipher.seal_in_place(nonce, nodus::as_bytes("aad"), in_place));
      CHECK(in_place == sealed);

      REQUIRE(cipher.open_in_place(nonce, nodus::as_bytes("aad"), in_place));
      CHECK(std::equal(plain.begin(), plain.end(), in_place.begin()));

      // A flipped bit: refused, and the unauthenticated plaintext is zeroed.
      bytes tampered = sealed;
      tampered.back() ^= 1;
      CHECK(cipher.open_in_place(nonce, nodus::as_bytes("aad"), tampered).error() == errc::authentication_failed);
      CHECK(std::all_of(tampered.begin(), tampered.end() - aead_tag_size, [](auto b) { return b == 0; }));
    }
    bytes too_short(aead_tag_size - 1);
    CHECK(cipher.seal_in_place(nonce0, {}, too_short).error() == errc::invalid_argument);
  }
}
