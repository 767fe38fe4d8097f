// Credentials: the canonical encoding, signing, and the checks of a verifier. The decoder walks
// the msgpack object field by field, so nothing the peer sends decides an allocation beyond the
// (already bounded) message itself.
#include "nodus/authority/credential.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

#include "codec.hpp"
#include "nodus/authority/errors.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::authority {
namespace {

using namespace detail;

constexpr std::size_t wire_fields = 7;
constexpr std::string_view signing_label = "nodus.credential";
constexpr std::size_t signature_size = 64;

auto refuse(credential_error e, std::string why) { return fail(make_error_code(e), std::move(why)); }
auto malformed(std::string what) { return refuse(credential_error::malformed, "a malformed credential: " + what); }

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void pack_fields(packer& p, const credential& c) {
  pack_text(p, c.subject);
  pack_attributes(p, c.attributes);
  pack_text(p, c.issuer);
  p.pack(to_millis(c.issued_at));
  p.pack(to_millis(c.expires_at));
}

std::string shown(std::string_view id) { return printable_cut(id, max_identifier_size); }

}  // namespace

std::int64_t to_millis(time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
time_point from_millis(std::int64_t ms) { return time_point(std::chrono::milliseconds(ms)); }
std::string time_text(time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

result_or_failure<trusted_authority> trusted_authority::from_history(const vault::change_history& history) {
  auto id = history.verify();
  if (!id) return fail(id.error().code, "the authority's identity does not verify: " + id.error().message());
  return trusted_authority{id.value(), history.primary_public_key()};
}

std::optional<std::string> attribute_problem(std::string_view name, std::string_view value) {
  const std::string quoted = "'" + printable_cut(name, max_attribute_name_size) + "'";
  if (name.empty() || name.size() > max_attribute_name_size)
    return "attribute name " + quoted + " is not 1 to 128 bytes";
  bool segment_empty = true;
  for (char c : name) {
    if (c == '.') {
      if (segment_empty) return "attribute name " + quoted + " has an empty segment";
      segment_empty = true;
    } else if (!name_char(c)) {
      return "attribute name " + quoted + " is not segments of [A-Za-z0-9_-] joined by '.'";
    } else {
      segment_empty = false;
    }
  }
  if (segment_empty) return "attribute name " + quoted + " has an empty segment";
  if (name == "identifier")
    return "attribute name 'identifier' is reserved (policies read it as the peer's identifier)";
  if (value.size() > max_attribute_value_size) return "the value of attribute " + quoted + " is over 1024 bytes";
  return std::nullopt;
}

std::optional<std::string> attributes_problem(const attribute_map& attributes) {
  if (attributes.size() > max_attributes) return "more than 64 attributes";
  for (const auto& [name, value] : attributes)
    if (auto problem = attribute_problem(name, value)) return problem;
  return std::nullopt;
}

bytes signed_content(const credential& c) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  packer p(writer);
  p.pack_array(7);
  pack_text(p, signing_label);
  p.pack(credential_version);
  pack_fields(p, c);
  return out;
}

bytes encode(const credential& c) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  packer p(writer);
  p.pack_array(wire_fields);
  p.pack(credential_version);
  pack_fields(p, c);
  pack_bin(p, c.signature);
  return out;
}

result_or_failure<credential> decode_credential(byte_view wire) {
  if (wire.size() > max_credential_size)
    return malformed(std::to_string(wire.size()) + " bytes, over the limit of " + std::to_string(max_credential_size));
  auto handle = nodus::detail::unpack_bounded(wire);
  if (!handle) return malformed("not one msgpack value");
  const object& o = handle.value().get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size == 0) return malformed("not a msgpack array");
  auto version = unsigned_of(o.via.array.ptr[0], 255);
  if (!version) return malformed("the version is not a small number");
  if (*version != credential_version)
    return malformed("version " + std::to_string(*version) + ", this node reads version 1");
  const object* f = fields(o, wire_fields);
  if (!f) return malformed(std::to_string(o.via.array.size) + " fields, not 7");
  credential c;
  auto subject = text_of(f[1], max_identifier_size);
  if (!subject || subject->empty()) return malformed("the subject is not an identifier");
  c.subject = std::move(*subject);
  if (auto problem = attributes_of(f[2], c.attributes)) return malformed(*problem);
  auto issuer = text_of(f[3], max_identifier_size);
  if (!issuer || issuer->empty()) return malformed("the issuer is not an identifier");
  c.issuer = std::move(*issuer);
  auto issued = millis_of(f[4]);
  if (!issued) return malformed("issued_at is not a number of milliseconds in range");
  auto expires = millis_of(f[5]);
  if (!expires) return malformed("expires_at is not a number of milliseconds in range");
  if (*expires <= *issued) return malformed("expires_at is not after issued_at");
  c.issued_at = from_millis(*issued);
  c.expires_at = from_millis(*expires);
  auto signature = bin_of(f[6], signature_size);
  if (!signature || signature->size() != signature_size) return malformed("the signature is not 64 bytes");
  c.signature.assign(signature->begin(), signature->end());
  return c;
}

result_or_failure<bytes> sign_credential(credential c, const vault::identity& authority) {
  c.issuer = authority.id();
  if (auto problem = attributes_problem(c.attributes))
    return refuse(credential_error::malformed, "cannot sign a credential: " + *problem);
  if (c.expires_at <= c.issued_at)
    return refuse(credential_error::malformed, "cannot sign a credential that expires before it is issued");
  auto signature = authority.key_vault()->sign(authority.primary_key(), signed_content(c));
  if (!signature) return fail(signature.error(), "the authority's key cannot sign: " + signature.error().message());
  c.signature = std::move(signature).value();
  return encode(c);
}

result_or_failure<credential> verify_credential(byte_view wire, const trusted_authority& authority,
                                                std::string_view expected_subject, time_point now) {
  auto decoded = decode_credential(wire);
  if (!decoded) return std::move(decoded).error();
  credential& c = decoded.value();
  if (c.issuer != authority.id)
    return refuse(credential_error::wrong_issuer,
                  "a credential issued by " + shown(c.issuer) + ", not the project's authority " + authority.id);
  if (!vault::verify_ed25519(authority.public_key, signed_content(c), c.signature))
    return refuse(credential_error::bad_signature, "the credential of " + shown(c.subject) +
                                                       " is not signed by the project's authority " + authority.id +
                                                       " (a bad signature: altered, or signed by another key)");
  if (!expected_subject.empty() && c.subject != expected_subject)
    return refuse(credential_error::wrong_subject, "a credential of " + shown(c.subject) + " presented by " +
                                                       shown(expected_subject) + ": it is another identity's");
  if (now >= c.expires_at)
    return refuse(credential_error::expired,
                  "the credential of " + c.subject + " expired at " + time_text(c.expires_at));
  if (c.issued_at > now + max_clock_skew)
    return refuse(credential_error::not_yet_valid,
                  "the credential of " + c.subject + " is not valid yet: issued at " + time_text(c.issued_at));
  return decoded;
}

}  // namespace nodus::authority
