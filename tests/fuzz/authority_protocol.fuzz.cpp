// Fuzzes the decoders of the authority (authority/): `decode_authority_request` (what an
// authority takes from any peer through a secure channel), `decode_authority_reply` (what a
// member takes back), `verify_credential` with its decoder (what every verifier of a presented
// credential reads), and `parse_ticket` (a ticket file's line).
//
// Input: any bytes; every input is read as all four (as text for the ticket).
//
// Properties: no crash, no sanitizer report, largest allocation within `decoder_limit`; errors
// have the expected codes and a reason; what decodes re-encodes to bytes that decode to the
// same value; a credential never verifies against the fixed authority (nothing can forge its
// signature) unless it is the one the target signed, and a verified one is within its times.

#include "fuzz_support.hpp"
#include "nodus/authority/credential.hpp"
#include "nodus/authority/errors.hpp"
#include "nodus/authority/protocol.hpp"
#include "nodus/authority/ticket.hpp"
#include "nodus/core/error.hpp"
#include "nodus/vault/vault.hpp"

namespace {

using namespace nodus;
using namespace nodus::authority;

bool wire_error(const failure& f) {
  return !f.reason.empty() &&
         (f.code == errc::malformed || f.code == errc::too_large || f.code == errc::unsupported_version);
}

bool same_members(const std::vector<member>& a, const std::vector<member>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].attributes != b[i].attributes || a[i].added_at != b[i].added_at) return false;
  return true;
}

void check_request(byte_view wire) {
  auto r = decode_authority_request(wire);
  if (!r) {
    NODUS_FUZZ_CHECK(wire_error(r.error()));
    return;
  }
  auto again = decode_authority_request(encode(r.value()));
  NODUS_FUZZ_CHECK(again);
  const auto &a = again.value(), &b = r.value();
  NODUS_FUZZ_CHECK(a.op == b.op && a.request_id == b.request_id && a.secret == b.secret &&
                   a.identifier == b.identifier && a.ticket.attributes == b.ticket.attributes &&
                   a.ticket.relay == b.ticket.relay && a.ticket.usage_count == b.ticket.usage_count &&
                   a.ticket.expires_in == b.ticket.expires_in);
}

void check_reply(byte_view wire) {
  auto r = decode_authority_reply(wire);
  if (!r) {
    NODUS_FUZZ_CHECK(wire_error(r.error()));
    return;
  }
  auto again = decode_authority_reply(encode(r.value()));
  NODUS_FUZZ_CHECK(again);
  const auto &a = again.value(), &b = r.value();
  NODUS_FUZZ_CHECK(a.op == b.op && a.request_id == b.request_id && a.status == b.status && a.reason == b.reason &&
                   a.credential == b.credential && a.secret == b.secret && a.deleted == b.deleted &&
                   same_members(a.members, b.members));
}

struct fixed_authority {
  vault::identity identity = vault::identity::create(vault::vault::create_in_memory()).value();
  trusted_authority trusted = trusted_authority::from_history(identity.history()).value();
};

void check_credential(byte_view wire) {
  static const fixed_authority authority;
  const auto now = from_millis(1'800'000'000'000);
  auto c = decode_credential(wire);
  auto v = verify_credential(wire, authority.trusted, "", now);
  if (!c) {
    NODUS_FUZZ_CHECK(c.error().code == credential_error::malformed && !c.error().reason.empty());
    NODUS_FUZZ_CHECK(!v && v.error().code == credential_error::malformed);
    return;
  }
  auto again = decode_credential(encode(c.value()));
  NODUS_FUZZ_CHECK(again);
  const auto &a = again.value(), &b = c.value();
  NODUS_FUZZ_CHECK(a.subject == b.subject && a.attributes == b.attributes && a.issuer == b.issuer &&
                   a.issued_at == b.issued_at && a.expires_at == b.expires_at && a.signature == b.signature);
  NODUS_FUZZ_CHECK(encode(again.value()) == encode(c.value()));
  // The target never signed anything: nothing verifies.
  NODUS_FUZZ_CHECK(!v && !v.error().reason.empty() && v.error().code != credential_error::malformed);
}

void check_ticket(byte_view wire) {
  const std::string_view text(reinterpret_cast<const char*>(wire.data()), wire.size());
  auto t = parse_ticket(text);
  if (!t) {
    NODUS_FUZZ_CHECK(t.error().code == errc::malformed && t.error().reason.starts_with("not a ticket: "));
    return;
  }
  auto again = parse_ticket(ticket_text(t.value()));
  NODUS_FUZZ_CHECK(again);
  NODUS_FUZZ_CHECK(again.value().authority == t.value().authority && again.value().history == t.value().history &&
                   again.value().route == t.value().route && again.value().secret == t.value().secret);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nodus::byte_view wire(data, size);
  nodus::fuzz::allocation_watch watch;
  check_request(wire);
  check_reply(wire);
  check_credential(wire);
  check_ticket(wire);
  watch.check(nodus::fuzz::allocation_watch::decoder_limit(size));
  return 0;
}
