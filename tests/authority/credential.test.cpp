// Credentials without I/O: signing, verifying, and every refusal, each field tampered in turn.
#include <doctest/doctest.h>

#include "nodus/authority/credential.hpp"
#include "nodus/authority/errors.hpp"
#include "nodus/vault/vault.hpp"

#include <msgpack.hpp>

using namespace nodus;
using namespace nodus::authority;

namespace {

const time_point t0 = from_millis(1'800'000'000'000);

vault::identity new_identity() { return vault::identity::create(vault::vault::create_in_memory()).value(); }

struct signed_credential {
  vault::identity issuer = new_identity();
  trusted_authority trusted = trusted_authority::from_history(issuer.history()).value();
  credential c{"I0123456789abcdef0123456789abcdef01234567",
               {{"kafka", "producer"}, {"relay", "*"}, {"role", "member"}},
               "",
               t0,
               t0 + std::chrono::hours(1),
               {}};
  bytes wire = sign_credential(c, issuer).value();
  credential decoded() const { return decode_credential(wire).value(); }
};

failure refusal(byte_view wire, const trusted_authority& t, std::string_view subject, time_point now) {
  auto r = verify_credential(wire, t, subject, now);
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

TEST_CASE("a signed credential verifies, with its attributes, subject, issuer and times") {
  signed_credential s;
  auto v = verify_credential(s.wire, s.trusted, s.c.subject, t0 + std::chrono::minutes(5));
  REQUIRE_MESSAGE(v, v.error().message());
  CHECK(v.value().subject == s.c.subject);
  CHECK(v.value().attributes == s.c.attributes);
  CHECK(v.value().issuer == s.issuer.id());
  CHECK(v.value().issued_at == t0);
  CHECK(v.value().expires_at == t0 + std::chrono::hours(1));
  CHECK(encode(v.value()) == s.wire);                   // one encoding
  CHECK(verify_credential(s.wire, s.trusted, "", t0));  // no subject expected
}

TEST_CASE("every tampered field is refused: the signature covers subject, each attribute, and the times") {
  signed_credential s;
  const auto now = t0 + std::chrono::minutes(1);
  std::vector<std::pair<std::string, std::function<void(credential&)>>> tamperings = {
      {"subject", [](credential& c) { c.subject[5] ^= 1; }},
      {"attribute value kafka", [](credential& c) { c.attributes["kafka"] = "consumer"; }},
      {"attribute value relay", [](credential& c) { c.attributes["relay"] = "bob"; }},
      {"attribute value role", [](credential& c) { c.attributes["role"] = "admin"; }},
      {"an attribute added", [](credential& c) { c.attributes["admin"] = "yes"; }},
      {"an attribute removed", [](credential& c) { c.attributes.erase("role"); }},
      {"an attribute renamed",
       [](credential& c) {
         c.attributes.erase("role");
         c.attributes["rolf"] = "member";
       }},
      {"issued_at", [](credential& c) { c.issued_at -= std::chrono::milliseconds(1); }},
      {"expires_at", [](credential& c) { c.expires_at += std::chrono::hours(24); }},
      {"signature", [](credential& c) { c.signature[10] ^= 0x40; }},
  };
  for (const auto& [what, change] : tamperings) {
    CAPTURE(what);
    credential c = s.decoded();
    change(c);
    auto f = refusal(encode(c), s.trusted, "", now);
    CHECK(f.code == credential_error::bad_signature);
    CHECK(f.reason.find("not signed by the project's authority " + s.issuer.id()) != std::string::npos);
  }
}

TEST_CASE("a credential naming another issuer is refused as from another authority, saying both") {
  signed_credential s;
  credential c = s.decoded();
  c.issuer = "I" + std::string(40, 'a');
  auto f = refusal(encode(c), s.trusted, "", t0);
  CHECK(f.code == credential_error::wrong_issuer);
  CHECK(f.reason == "a credential issued by " + c.issuer + ", not the project's authority " + s.issuer.id());

  signed_credential other;  // a real credential of another authority
  auto g = refusal(other.wire, s.trusted, "", t0);
  CHECK(g.code == credential_error::wrong_issuer);
  CHECK(g.reason.find("issued by " + other.issuer.id()) != std::string::npos);
  // Another identity claiming the project's identifier is caught by the signature.
  credential forged = other.decoded();
  forged.issuer = s.issuer.id();
  CHECK(refusal(encode(forged), s.trusted, "", t0).code == credential_error::bad_signature);
}

TEST_CASE("expired, not yet valid, and another subject's credentials are refused with reasons") {
  signed_credential s;
  auto expired = refusal(s.wire, s.trusted, s.c.subject, t0 + std::chrono::hours(1));
  CHECK(expired.code == credential_error::expired);
  CHECK(expired.reason.find("expired at 2027-01-15T09:00:00Z") != std::string::npos);
  CHECK(verify_credential(s.wire, s.trusted, s.c.subject, t0 + std::chrono::hours(1) - std::chrono::milliseconds(1)));

  auto early = refusal(s.wire, s.trusted, s.c.subject, t0 - max_clock_skew - std::chrono::seconds(1));
  CHECK(early.code == credential_error::not_yet_valid);
  CHECK(early.reason.find("not valid yet: issued at 2027-01-15T08:00:00Z") != std::string::npos);
  CHECK(verify_credential(s.wire, s.trusted, s.c.subject, t0 - max_clock_skew));

  auto other = refusal(s.wire, s.trusted, "I" + std::string(40, 'b'), t0);
  CHECK(other.code == credential_error::wrong_subject);
  CHECK(other.reason.find("it is another identity's") != std::string::npos);
}

TEST_CASE("malformed credentials are refused, each field named") {
  signed_credential s;
  auto reason_of = [&](const bytes& wire) {
    auto r = decode_credential(wire);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == credential_error::malformed);
    return r.error().reason;
  };
  CHECK(reason_of({}).find("not one msgpack value") != std::string::npos);
  CHECK(reason_of({0x90}).find("not a msgpack array") != std::string::npos);
  CHECK(reason_of({0x91, 0x02}).find("version 2") != std::string::npos);
  CHECK(reason_of({0x92, 0x01, 0x01}).find("2 fields, not 7") != std::string::npos);
  bytes big(max_credential_size + 1, 0);
  CHECK(reason_of(big).find("over the limit") != std::string::npos);

  auto with = [&](auto change) {
    credential c = s.decoded();
    change(c);
    return encode(c);
  };
  CHECK(reason_of(with([](credential& c) { c.subject.clear(); })).find("subject") != std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.subject = std::string(129, 'I'); })).find("subject") != std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.issuer.clear(); })).find("issuer") != std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.attributes["bad name"] = "x"; })).find("attribute name") !=
        std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.attributes["identifier"] = "x"; })).find("reserved") != std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.attributes["v"] = std::string(1025, 'x'); })).find("in bounds") !=
        std::string::npos);
  CHECK(reason_of(with([](credential& c) {
          for (int i = 0; i < 65; ++i) c.attributes["a" + std::to_string(i)] = "x";
        })).find("more than 64") != std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.expires_at = c.issued_at; })).find("not after issued_at") !=
        std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.expires_at = from_millis(4102444800001); })).find("expires_at") !=
        std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.issued_at = from_millis(-1); })).find("issued_at") != std::string::npos);
  CHECK(reason_of(with([](credential& c) { c.signature.resize(63); })).find("signature") != std::string::npos);

  // Attributes out of order, or twice (other encodings of a map) are refused.
  for (bool twice : {false, true}) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> p(buffer);
    p.pack_array(7);
    p.pack(1);
    p.pack(s.c.subject);
    p.pack_map(2);
    p.pack(std::string("b"));
    p.pack(std::string("1"));
    p.pack(std::string(twice ? "b" : "a"));
    p.pack(std::string("2"));
    p.pack(s.issuer.id());
    p.pack(to_millis(t0));
    p.pack(to_millis(t0 + std::chrono::hours(1)));
    p.pack_bin(64);
    p.pack_bin_body(std::string(64, 'x').data(), 64);
    bytes wire(buffer.data(), buffer.data() + buffer.size());
    CHECK(reason_of(wire).find("strictly increasing") != std::string::npos);
  }
}
