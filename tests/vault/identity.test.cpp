// Identities: stable identifiers, verification of change histories against every kind of
// tampering, attestations of secure-channel keys, and the encodings.

#include "nodus/vault/identity.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>

using namespace std::chrono_literals;

namespace nodus::vault {
namespace {

identity make_identity(const std::shared_ptr<vault>& v, int rotations = 0) {
  auto ident = identity::create(v, key_lifetime::ephemeral);
  REQUIRE(ident);
  for (int i = 0; i < rotations; ++i) REQUIRE(ident.value().rotate(key_lifetime::ephemeral));
  return std::move(ident).value();
}

/// A fresh X25519 public key, as a secure channel's static key would be.
bytes static_key(vault& v) {
  auto k = v.generate(key_type::x25519);
  REQUIRE(k);
  return v.public_key(k.value()).value();
}

/// Checks that `h` is refused as untrusted, with a reason containing `expected`.
void check_untrusted(const change_history& h, const std::string& expected) {
  auto verified = h.verify();
  REQUIRE_FALSE(verified);
  CHECK(verified.error().code == errc::untrusted_identity);
  INFO("reason: " << verified.error().reason);
  CHECK(verified.error().reason.find(expected) != std::string::npos);
}

using edit = std::function<void(std::vector<identity_change>&)>;

change_history edited(const change_history& h, const edit& e) {
  auto changes = h.changes();
  e(changes);
  return change_history(std::move(changes));
}

void flip(bytes& b, std::size_t at = 0) {
  REQUIRE(at < b.size());
  b[at] ^= 0x01;
}

bool is_lower_hex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }

}  // namespace

TEST_CASE("a new identity has an identifier of 'I' and 40 hex digits, and its history verifies") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v);
  CHECK(alice.id().size() == 41);
  CHECK(alice.id().front() == 'I');
  CHECK(is_lower_hex(alice.id().substr(1)));
  CHECK(alice.history().changes().size() == 1);
  CHECK(alice.history().verify().value() == alice.id());
  CHECK(alice.history().id() == alice.id());
  CHECK(alice.history().primary_public_key() == v->public_key(alice.primary_key()).value());
  CHECK(make_identity(v).id() != alice.id());
}

TEST_CASE("rotation changes the primary key but keeps the identifier; each previous key is erased") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v);
  const identifier id = alice.id();
  std::vector<key_id> keys{alice.primary_key()};
  for (int i = 0; i < 3; ++i) {
    REQUIRE(alice.rotate(key_lifetime::ephemeral));
    CHECK(alice.id() == id);
    CHECK(alice.history().verify().value() == id);
    CHECK(alice.primary_key() != keys.back());
    CHECK(alice.history().primary_public_key() == v->public_key(alice.primary_key()).value());
    // The key just replaced is gone: looked up by its id, it is unknown, and it signs nothing.
    CHECK(v->type_of(keys.back()).error() == errc::unknown_key);
    CHECK(v->sign(keys.back(), as_bytes("anything")).error() == errc::unknown_key);
    keys.push_back(alice.primary_key());
  }
  CHECK(alice.history().changes().size() == 4);
  CHECK(v->list() == std::vector<key_id>{alice.primary_key()});
}

TEST_CASE("a copy of an identity made before a rotation can no longer sign") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v);
  identity before = alice;
  REQUIRE(alice.rotate(key_lifetime::ephemeral));
  auto a = before.attest(static_key(*v), 1h);
  REQUIRE_FALSE(a);
  CHECK(a.error().code == errc::unknown_key);
  CHECK(a.error().reason.find(before.primary_key().value) != std::string::npos);
}

TEST_CASE("from_history rebuilds an identity only with its current primary key") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v);
  const key_id first_key = alice.primary_key();
  REQUIRE(alice.rotate(key_lifetime::ephemeral));

  auto decoded = change_history::decode(alice.history().encode());
  REQUIRE(decoded);
  auto again = identity::from_history(v, decoded.value(), alice.primary_key());
  REQUIRE(again);
  CHECK(again.value().id() == alice.id());

  auto with_old_key = identity::from_history(v, decoded.value(), first_key);
  REQUIRE_FALSE(with_old_key);
  CHECK(with_old_key.error().reason.find(alice.id()) != std::string::npos);

  auto unknown_key = identity::from_history(v, decoded.value(), key_id{"no-such-key"});
  REQUIRE_FALSE(unknown_key);
  CHECK(unknown_key.error().reason.find("no-such-key") != std::string::npos);

  auto x = v->generate(key_type::x25519);
  auto wrong_type = identity::from_history(v, decoded.value(), x.value());
  REQUIRE_FALSE(wrong_type);

  auto bad_history = identity::from_history(v, change_history{}, alice.primary_key());
  REQUIRE_FALSE(bad_history);
  CHECK(bad_history.error().code == errc::untrusted_identity);
}

TEST_CASE("a history with any field of any change altered is untrusted, naming the change") {
  auto v = vault::create_in_memory();
  const auto h = make_identity(v, 2).history();
  const std::string id = h.id();
  for (std::size_t i = 0; i < h.changes().size(); ++i) {
    CAPTURE(i);
    const std::string at = "change " + std::to_string(i) + " of 3";
    const bool first = i == 0;
    // Altering the first change's content also changes the identifier the history claims, so
    // the reason names the identifier only for later changes.
    const std::string where = first ? at : "identity " + id + ": " + at;
    check_untrusted(edited(h, [&](auto& c) { c[i].version = 2; }), where + ": unknown version 2");
    check_untrusted(edited(h, [&](auto& c) { c[i].created_at += 1; }), where);
    check_untrusted(edited(h, [&](auto& c) { flip(c[i].public_key, 5); }), where);
    check_untrusted(edited(h, [&](auto& c) { c[i].public_key.pop_back(); }), where + ": public key of 31 bytes");
    check_untrusted(edited(h, [&](auto& c) { flip(c[i].self_signature, 10); }), where + ": self signature");
    check_untrusted(edited(h, [&](auto& c) { c[i].self_signature.clear(); }), where + ": self signature");
    if (first) {
      check_untrusted(edited(h, [&](auto& c) { c[i].previous.assign(32, 0); }), where);
      check_untrusted(edited(h, [&](auto& c) { c[i].previous_signature = c[i].self_signature; }),
                      where + ": first change carries a previous signature");
    } else {
      check_untrusted(edited(h, [&](auto& c) { flip(c[i].previous, 31); }), where);
      check_untrusted(edited(h, [&](auto& c) { flip(c[i].previous_signature, 63); }), where + ": previous signature");
      check_untrusted(edited(h, [&](auto& c) { c[i].previous_signature.clear(); }), where + ": previous signature");
    }
  }
}

TEST_CASE("dropping, reordering or duplicating changes makes a history untrusted") {
  auto v = vault::create_in_memory();
  const auto h = make_identity(v, 2).history();
  check_untrusted(change_history{}, "empty");
  check_untrusted(edited(h, [](auto& c) { c.erase(c.begin()); }), "change 0 of 2");
  check_untrusted(edited(h, [](auto& c) { c.erase(c.begin() + 1); }), "change 1 of 2: does not link");
  check_untrusted(edited(h, [](auto& c) { std::swap(c[1], c[2]); }), "change 1 of 3");
  check_untrusted(edited(h, [](auto& c) { std::swap(c[0], c[1]); }), "change 0 of 3");
  check_untrusted(edited(h, [](auto& c) { c.push_back(c.back()); }), "change 3 of 4: does not link");
  check_untrusted(edited(h, [](auto& c) { c.insert(c.begin(), c.front()); }), "change 1 of 4");
}

TEST_CASE("a key slipped into someone's history, or two histories spliced, is untrusted") {
  auto v = vault::create_in_memory();
  const auto alice = make_identity(v, 1);
  const auto mallory = make_identity(v, 1);

  SUBCASE("a change for mallory's key, linked after alice's last, lacks alice's previous signature") {
    auto mkey = v->generate(key_type::ed25519).value();
    identity_change forged{.previous = sha256(alice.history().changes().back().signed_content()),
                           .public_key = v->public_key(mkey).value(),
                           .created_at = 1};
    forged.self_signature = v->sign(mkey, forged.signed_content()).value();
    forged.previous_signature = v->sign(mkey, forged.signed_content()).value();
    auto changes = alice.history().changes();
    changes.push_back(forged);
    check_untrusted(change_history(changes), "identity " + alice.id() + ": change 2 of 3: previous signature");
  }
  SUBCASE("a change's key replaced and re-self-signed by mallory") {
    auto mkey = v->generate(key_type::ed25519).value();
    auto changes = alice.history().changes();
    changes[1].public_key = v->public_key(mkey).value();
    changes[1].self_signature = v->sign(mkey, changes[1].signed_content()).value();
    check_untrusted(change_history(changes), "identity " + alice.id() + ": change 1 of 2: previous signature");
  }
  SUBCASE("splices of two identities' changes") {
    const auto& a = alice.history().changes();
    const auto& m = mallory.history().changes();
    check_untrusted(change_history({a[0], m[1]}), "identity " + alice.id() + ": change 1 of 2: does not link");
    check_untrusted(change_history({m[0], a[1]}), "identity " + mallory.id() + ": change 1 of 2: does not link");
  }
}

TEST_CASE("every bit flip of an encoded history is refused by decode or by verify") {
  auto v = vault::create_in_memory();
  const auto h = make_identity(v, 1).history();
  const bytes encoded = h.encode();
  int refused_by_decode = 0;
  int refused_by_verify = 0;
  for (std::size_t at = 0; at < encoded.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      bytes tampered = encoded;
      tampered[at] ^= static_cast<std::uint8_t>(1 << bit);
      auto decoded = change_history::decode(tampered);
      if (!decoded) {
        ++refused_by_decode;
        continue;
      }
      auto verified = decoded.value().verify();
      CAPTURE(at);
      CAPTURE(bit);
      CHECK_FALSE(verified);
      if (!verified) ++refused_by_verify;
    }
  }
  MESSAGE("bit flips refused: " << refused_by_decode << " by decode, " << refused_by_verify << " by verify");
  CHECK(refused_by_decode + refused_by_verify == static_cast<int>(encoded.size() * 8));
}

TEST_CASE("an attestation verifies for its key until it expires") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v);
  const bytes key = static_key(*v);
  auto a = alice.attest(key, 1h);
  REQUIRE(a);
  CHECK(a.value().subject_key == key);
  CHECK(verify_attestation(alice.history(), a.value(), key).value() == alice.id());

  const auto expiry = std::chrono::system_clock::time_point(std::chrono::seconds(a.value().expires_at));
  CHECK(verify_attestation(alice.history(), a.value(), key, expiry - 1s));
  auto late = verify_attestation(alice.history(), a.value(), key, expiry);
  REQUIRE_FALSE(late);
  CHECK(late.error().code == errc::expired);
  CHECK(late.error().reason.find(alice.id()) != std::string::npos);
}

TEST_CASE("an attestation is refused for another key, after a rotation, or against another identity") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v);
  auto bob = make_identity(v);
  const bytes key = static_key(*v);
  const auto a = alice.attest(key, 1h).value();

  auto refused = [](const result_or_failure<identifier>& r, const identifier& id, const std::string& why) {
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::untrusted_identity);
    INFO("reason: " << r.error().reason);
    CHECK(r.error().reason.find(id) != std::string::npos);
    CHECK(r.error().reason.find(why) != std::string::npos);
  };

  SUBCASE("for another key") {
    refused(verify_attestation(alice.history(), a, static_key(*v)), alice.id(), "another key");
  }
  SUBCASE("checked against another identity") {
    refused(verify_attestation(bob.history(), a, key), bob.id(), "bound to a change that is not in the history");
  }
  SUBCASE("made by a key rotated out since") {
    REQUIRE(alice.rotate(key_lifetime::ephemeral));
    refused(verify_attestation(alice.history(), a, key), alice.id(),
            "attestation was made under change 0 of 2 and signed by a key rotated away since");
    CHECK(verify_attestation(alice.history(), alice.attest(key, 1h).value(), key).value() == alice.id());
  }
  SUBCASE("presented with the history cut before the rotation that made its key") {
    REQUIRE(alice.rotate(key_lifetime::ephemeral));
    const auto fresh = alice.attest(key, 1h).value();
    auto changes = alice.history().changes();
    changes.pop_back();
    refused(verify_attestation(change_history(changes), fresh, key), alice.id(),
            "bound to a change that is not in the history");
  }
  SUBCASE("bound to the latest change but signed by the key of an earlier one") {
    REQUIRE(alice.rotate(key_lifetime::ephemeral));
    auto forged = alice.attest(key, 1h).value();
    forged.signature = a.signature;  // by the first key, over other content
    refused(verify_attestation(alice.history(), forged, key), alice.id(),
            "not signed by the identity's current primary key");
    auto short_hash = a;
    short_hash.change_hash.pop_back();
    refused(verify_attestation(alice.history(), short_hash, key), alice.id(), "change hash of 31 bytes");
  }
  SUBCASE("with a field altered") {
    auto later = a;
    later.expires_at += 3600;
    refused(verify_attestation(alice.history(), later, key), alice.id(), "not signed");
    auto other_subject = a;
    other_subject.subject_key[0] ^= 1;
    refused(verify_attestation(alice.history(), other_subject, other_subject.subject_key), alice.id(), "not signed");
    auto bad_signature = a;
    bad_signature.signature[7] ^= 1;
    refused(verify_attestation(alice.history(), bad_signature, key), alice.id(), "not signed");
    auto unknown = a;
    unknown.version = 9;
    refused(verify_attestation(alice.history(), unknown, key), alice.id(), "unknown version");
  }
  SUBCASE("with a history that does not verify") {
    auto changes = alice.history().changes();
    changes[0].created_at += 1;
    auto r = verify_attestation(change_history(changes), a, key);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::untrusted_identity);
  }
}

TEST_CASE("attest refuses a key of the wrong size and a validity that is not positive") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v);
  CHECK(alice.attest(bytes(31, 7), 1h).error().code == errc::invalid_argument);
  CHECK(alice.attest(bytes(32, 7), 0s).error().code == errc::invalid_argument);
  CHECK(alice.attest(bytes(32, 7), std::chrono::seconds::max()).error().code == errc::invalid_argument);
}

TEST_CASE("histories and attestations round-trip through their encodings") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v, 2);
  auto decoded = change_history::decode(alice.history().encode());
  REQUIRE(decoded);
  REQUIRE(decoded.value().changes().size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& x = alice.history().changes()[i];
    const auto& y = decoded.value().changes()[i];
    CHECK(x.version == y.version);
    CHECK(x.previous == y.previous);
    CHECK(x.public_key == y.public_key);
    CHECK(x.created_at == y.created_at);
    CHECK(x.self_signature == y.self_signature);
    CHECK(x.previous_signature == y.previous_signature);
  }
  CHECK(decoded.value().verify().value() == alice.id());

  const bytes key = static_key(*v);
  const auto a = alice.attest(key, 1h).value();
  auto a2 = attestation::decode(a.encode());
  REQUIRE(a2);
  CHECK(a2.value().version == a.version);
  CHECK(a2.value().change_hash == a.change_hash);
  CHECK(a2.value().change_hash == sha256(alice.history().changes().back().signed_content()));
  CHECK(a2.value().subject_key == a.subject_key);
  CHECK(a2.value().expires_at == a.expires_at);
  CHECK(a2.value().signature == a.signature);
  CHECK(verify_attestation(decoded.value(), a2.value(), key).value() == alice.id());

  identity_change negative{.created_at = -5};
  auto n = change_history::decode(change_history({negative}).encode());
  REQUIRE(n);
  CHECK(n.value().changes()[0].created_at == -5);
}

TEST_CASE("truncated, garbage and hostile encodings fail cleanly") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v, 1);
  const bytes history = alice.history().encode();
  const bytes att = alice.attest(static_key(*v), 1h).value().encode();

  for (std::size_t n = 0; n < history.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(change_history::decode(byte_view(history).first(n)));
  }
  for (std::size_t n = 0; n < att.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(attestation::decode(byte_view(att).first(n)));
  }
  bytes trailing = history;
  trailing.push_back(0xc0);
  CHECK_FALSE(change_history::decode(trailing));

  const std::vector<bytes> hostile{
      {0xdd, 0xff, 0xff, 0xff, 0xff},                    // an array claiming 4 billion elements
      {0x92, 0x01, 0xdd, 0x7f, 0xff, 0xff, 0xff},        // a change list claiming 2 billion
      {0x92, 0x01, 0x91, 0xc6, 0xff, 0xff, 0xff, 0xff},  // a bin claiming 4 GiB
      {0x92, 0x02, 0x90},                                // version 2
      {0x92, 0x01, 0x91, 0x90},                          // a change with no fields
      {0x92, 0x01, 0xa3, 'a', 'b', 'c'},                 // a string for the change list
      {0x95, 0x01, 0x01, 0xa1, 'k', 0x00, 0xc4, 0x00},   // an attestation key as a string
      {0xc1},                                            // never used
      {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
       0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0xc0},
  };
  for (const auto& b : hostile) {
    CAPTURE(b.size());
    auto h = change_history::decode(b);
    REQUIRE_FALSE(h);
    CHECK(h.error().reason.find("identity history") != std::string::npos);
    auto a = attestation::decode(b);
    REQUIRE_FALSE(a);
    CHECK(a.error().reason.find("identity attestation") != std::string::npos);
  }
  CHECK(change_history::decode(bytes{0x92, 0x02, 0x90}).error().code == nodus::errc::unsupported_version);

  // More changes than a history may have: refused before any of them is looked at.
  bytes many{0x92, 0x01, 0xdc, 0x04, 0x01};  // 1025 changes
  for (int i = 0; i < 1025; ++i) many.push_back(0xc0);
  CHECK(change_history::decode(many).error().code == nodus::errc::too_large);
  CHECK(change_history::decode(many).error().reason.find("1025 changes") != std::string::npos);

  // An attestation of encoding version 1 (not bound to a change) is refused, saying why.
  const bytes v1{0x95, 0x01, 0x01, 0xc4, 0x00, 0x00, 0xc4, 0x00};
  auto old = attestation::decode(v1);
  REQUIRE_FALSE(old);
  CHECK(old.error().code == nodus::errc::unsupported_version);
  CHECK(old.error().reason.find("version 1 is no longer accepted") != std::string::npos);

  // Random bytes never throw.
  for (int i = 0; i < 2000; ++i) {
    const bytes junk = random_bytes(1 + static_cast<std::size_t>(i % 64));
    CHECK_NOTHROW((void)change_history::decode(junk));
    CHECK_NOTHROW((void)attestation::decode(junk));
  }
}

}  // namespace nodus::vault
