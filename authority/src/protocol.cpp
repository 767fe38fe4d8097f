// The authority's wire messages, decoded field by field: every field is checked for its type and
// size, and nothing the peer sends decides an allocation beyond the (bounded) message itself.
#include "nodus/authority/protocol.hpp"

#include "codec.hpp"
#include "nodus/core/error.hpp"

namespace nodus::authority {
namespace {

using namespace detail;

constexpr std::size_t request_fields = 4;
constexpr std::size_t reply_fields = 6;
constexpr std::size_t member_fields = 3;

auto malformed(std::string what) { return fail(make_error_code(errc::malformed), std::move(what)); }

// The version first, so a later version with other fields is told apart from garbage.
result_or_failure<const object*> message_fields(const object& o, std::size_t n, std::string_view what) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size == 0)
    return malformed(std::string(what) + " is not a msgpack array");
  auto version = unsigned_of(o.via.array.ptr[0], 255);
  if (!version) return malformed(std::string(what) + ": the version is not a small number");
  if (*version != authority_protocol_version)
    return fail(make_error_code(errc::unsupported_version),
                std::string(what) + " of version " + std::to_string(*version) + ", this node speaks 1");
  const object* f = fields(o, n);
  if (!f)
    return malformed(std::string(what) + " has " + std::to_string(o.via.array.size) + " fields, not " +
                     std::to_string(n));
  return f;
}

result_or_failure<msgpack::object_handle> unpack(byte_view payload, std::size_t max, std::string_view what) {
  if (payload.size() > max)
    return fail(make_error_code(errc::too_large), std::string(what) + " of " + std::to_string(payload.size()) +
                                                      " bytes, over the limit of " + std::to_string(max));
  auto handle = nodus::detail::unpack_bounded(payload);
  if (!handle) return malformed(std::string(what) + " is not one msgpack value");
  return std::move(handle).value();
}

std::optional<authority_op> op_of(const object& o) {
  auto op = unsigned_of(o, 5);
  if (!op || *op == 0) return std::nullopt;
  return static_cast<authority_op>(*op);
}

result_or_failure<> decode_ticket_spec(const object& o, ticket_spec& t) {
  const object* f = fields(o, 4);
  if (!f) return malformed("a ticket request's body is not [attributes, relay, usage_count, expires_in_s]");
  if (auto problem = attributes_of(f[0], t.attributes)) return malformed("the ticket's " + *problem);
  auto relay = text_of(f[1], max_relay_name_size);
  if (!relay) return malformed("the ticket's relay is not text of at most 128 bytes");
  t.relay = std::move(*relay);
  auto usage = unsigned_of(f[2], max_usage_count);
  if (!usage || *usage == 0) return malformed("the ticket's usage count is not 1 to 1000000");
  t.usage_count = static_cast<std::uint32_t>(*usage);
  auto expires = unsigned_of(f[3], static_cast<std::uint64_t>(max_ticket_lifetime.count()));
  if (!expires || *expires == 0) return malformed("the ticket's expiry is not 1 s to 366 days");
  t.expires_in = std::chrono::seconds(*expires);
  return outcome::success();
}

void pack_member(packer& p, const member& m) {
  p.pack_array(member_fields);
  pack_text(p, m.id);
  pack_attributes(p, m.attributes);
  p.pack(to_millis(m.added_at));
}

result_or_failure<> decode_members(const object& o, std::vector<member>& out) {
  if (o.type != msgpack::type::ARRAY) return malformed("the members are not a list");
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    const object* f = fields(o.via.array.ptr[i], member_fields);
    if (!f) return malformed("member " + std::to_string(i + 1) + " is not [identifier, attributes, added_at_ms]");
    member m;
    auto id = text_of(f[0], max_identifier_size);
    if (!id || id->empty()) return malformed("member " + std::to_string(i + 1) + "'s identifier is not one");
    m.id = std::move(*id);
    if (auto problem = attributes_of(f[1], m.attributes))
      return malformed("member " + std::to_string(i + 1) + ": " + *problem);
    auto added = millis_of(f[2]);
    if (!added) return malformed("member " + std::to_string(i + 1) + "'s added_at is not in range");
    m.added_at = from_millis(*added);
    out.push_back(std::move(m));
  }
  return outcome::success();
}

result_or_failure<> decode_reply_body(const object& o, authority_reply& r) {
  switch (r.op) {
    case authority_op::enroll:
    case authority_op::refresh: {
      auto c = bin_of(o, max_credential_size);
      if (!c || c->empty()) return malformed("the reply's credential is not bytes");
      r.credential.assign(c->begin(), c->end());
      return outcome::success();
    }
    case authority_op::ticket: {
      auto secret = text_of(o, secret_hex_size);
      if (!secret || secret->size() != secret_hex_size) return malformed("the reply's secret is not 64 hex digits");
      r.secret = std::move(*secret);
      return outcome::success();
    }
    case authority_op::members: return decode_members(o, r.members);
    case authority_op::delete_member:
      if (o.type != msgpack::type::BOOLEAN) return malformed("the reply's deleted is not a boolean");
      r.deleted = o.via.boolean;
      return outcome::success();
  }
  return malformed("an unknown op");
}

}  // namespace

bytes encode(const authority_request& r) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  packer p(writer);
  p.pack_array(request_fields);
  p.pack(r.version);
  p.pack(static_cast<std::uint8_t>(r.op));
  p.pack(r.request_id);
  switch (r.op) {
    case authority_op::enroll: pack_text(p, r.secret); break;
    case authority_op::delete_member: pack_text(p, r.identifier); break;
    case authority_op::ticket:
      p.pack_array(4);
      pack_attributes(p, r.ticket.attributes);
      pack_text(p, r.ticket.relay);
      p.pack(r.ticket.usage_count);
      p.pack(static_cast<std::uint64_t>(r.ticket.expires_in.count()));
      break;
    default: p.pack_nil();
  }
  return out;
}

result_or_failure<authority_request> decode_authority_request(byte_view payload) {
  auto handle = unpack(payload, max_authority_request, "an authority request");
  if (!handle) return std::move(handle).error();
  auto f = message_fields(handle.value().get(), request_fields, "an authority request");
  if (!f) return std::move(f).error();
  const object* field = f.value();
  authority_request r;
  auto op = op_of(field[1]);
  if (!op) return malformed("the request's op is not 1 to 5");
  r.op = *op;
  auto id = unsigned_of(field[2], std::numeric_limits<std::uint64_t>::max());
  if (!id) return malformed("the request id is not an unsigned number");
  r.request_id = *id;
  const object& body = field[3];
  switch (r.op) {
    case authority_op::enroll: {
      auto secret = text_of(body, secret_hex_size);
      if (!secret || secret->empty()) return malformed("the enrollment's secret is not text of 1 to 64 bytes");
      r.secret = std::move(*secret);
      return r;
    }
    case authority_op::delete_member: {
      auto who = text_of(body, max_identifier_size);
      if (!who || who->empty()) return malformed("the member to delete is not an identifier");
      r.identifier = std::move(*who);
      return r;
    }
    case authority_op::ticket: {
      auto spec = decode_ticket_spec(body, r.ticket);
      if (!spec) return std::move(spec).error();
      return r;
    }
    default:
      if (body.type != msgpack::type::NIL) return malformed("a refresh or members request has no body");
      return r;
  }
}

bytes encode(const authority_reply& r) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  packer p(writer);
  p.pack_array(reply_fields);
  p.pack(r.version);
  p.pack(r.request_id);
  p.pack(static_cast<std::uint8_t>(r.op));
  p.pack(static_cast<std::uint8_t>(r.status));
  pack_text(p, std::string_view(r.reason).substr(0, max_reason_size));
  if (r.status != authority_status::ok) {
    p.pack_nil();
    return out;
  }
  switch (r.op) {
    case authority_op::enroll:
    case authority_op::refresh: pack_bin(p, r.credential); break;
    case authority_op::ticket: pack_text(p, r.secret); break;
    case authority_op::delete_member: p.pack(r.deleted); break;
    case authority_op::members: {
      std::vector<bytes> each;
      std::size_t total = out.size() + 16;
      for (const auto& m : r.members) {
        bytes one;
        nodus::detail::byte_writer w{one};
        packer mp(w);
        pack_member(mp, m);
        if (total + one.size() > max_authority_reply) break;
        total += one.size();
        each.push_back(std::move(one));
      }
      p.pack_array(static_cast<std::uint32_t>(each.size()));
      for (const auto& one : each) out.insert(out.end(), one.begin(), one.end());
      break;
    }
  }
  return out;
}

result_or_failure<authority_reply> decode_authority_reply(byte_view payload) {
  auto handle = unpack(payload, max_authority_reply, "an authority reply");
  if (!handle) return std::move(handle).error();
  auto f = message_fields(handle.value().get(), reply_fields, "an authority reply");
  if (!f) return std::move(f).error();
  const object* field = f.value();
  authority_reply r;
  auto id = unsigned_of(field[1], std::numeric_limits<std::uint64_t>::max());
  if (!id) return malformed("the reply's request id is not an unsigned number");
  r.request_id = *id;
  auto op = op_of(field[2]);
  if (!op) return malformed("the reply's op is not 1 to 5");
  r.op = *op;
  auto status = unsigned_of(field[3], static_cast<std::uint64_t>(authority_status::unavailable));
  if (!status) return malformed("the reply's status is not a known one");
  r.status = static_cast<authority_status>(*status);
  auto reason = text_of(field[4], max_reason_size);
  if (!reason) return malformed("the reply's reason is not text of at most 1024 bytes");
  r.reason = std::move(*reason);
  if (r.status != authority_status::ok) {
    if (field[5].type != msgpack::type::NIL) return malformed("a refusal carries a body");
    return r;
  }
  auto body = decode_reply_body(field[5], r);
  if (!body) return std::move(body).error();
  return r;
}

authority_status status_of(std::error_code code) {
  if (code.category() == enrollment_error_category()) {
    const auto e = static_cast<enrollment_error>(code.value());
    if (e >= enrollment_error::ticket_used_up && e <= enrollment_error::unavailable)
      return static_cast<authority_status>(code.value());
  }
  if (code == condition::protocol || code == condition::invalid_argument) return authority_status::bad_request;
  return authority_status::unavailable;
}

enrollment_error error_of(authority_status s) {
  if (s == authority_status::ok) return enrollment_error::unreachable;  // not a refusal: never asked
  return static_cast<enrollment_error>(static_cast<std::uint8_t>(s));
}

}  // namespace nodus::authority
