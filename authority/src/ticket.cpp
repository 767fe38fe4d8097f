// Tickets as text: a prefix that says what the line is, then base64url of a small msgpack array.
#include "nodus/authority/ticket.hpp"

#include "codec.hpp"
#include "nodus/core/error.hpp"
#include "nodus/core/route.hpp"

namespace nodus::authority {
namespace {

using namespace detail;

auto malformed(std::string what) { return fail(make_error_code(errc::malformed), "not a ticket: " + what); }

bool identifier_shape(std::string_view id) {
  if (id.size() != 41 || id[0] != 'I') return false;
  for (char c : id.substr(1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool hex_shape(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string_view trimmed(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ticket_text(const enrollment_ticket& t) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  packer p(writer);
  p.pack_array(5);
  p.pack(1);
  pack_text(p, t.authority);
  pack_bin(p, t.history);
  pack_text(p, t.route);
  pack_text(p, t.secret);
  return std::string(ticket_prefix) + base64url_encode(out);
}

result_or_failure<enrollment_ticket> parse_ticket(std::string_view text) {
  text = trimmed(text);
  if (text.size() > max_ticket_text) return malformed("over 32 KiB of text");
  if (!text.starts_with(ticket_prefix)) return malformed("it does not start with '" + std::string(ticket_prefix) + "'");
  text.remove_prefix(ticket_prefix.size());
  auto raw = base64url_decode(text);
  if (!raw) return malformed("the text after the prefix is not base64url");
  auto handle = nodus::detail::unpack_bounded(*raw);
  if (!handle) return malformed("its contents are not one msgpack value");
  const object* f = fields(handle.value().get(), 5);
  if (!f || unsigned_of(f[0], 255) != 1u)
    return malformed("its contents are not [1, authority, history, route, secret]");
  enrollment_ticket t;
  auto authority = text_of(f[1], 41);
  if (!authority || !identifier_shape(*authority))
    return malformed("the authority is not an identifier (I and 40 hex digits)");
  t.authority = std::move(*authority);
  auto history = bin_of(f[2], max_ticket_text);
  if (!history) return malformed("the authority's history is not bytes");
  t.history.assign(history->begin(), history->end());
  if (!t.history.empty()) {
    auto h = vault::change_history::decode(t.history);
    if (!h) return malformed("the authority's history does not decode: " + h.error().message());
    auto id = h.value().verify();
    if (!id) return malformed("the authority's history does not verify: " + id.error().message());
    if (id.value() != t.authority) return malformed("the history is of " + id.value() + ", not of " + t.authority);
  }
  auto route_text = text_of(f[3], 4096);
  if (!route_text || !route::parse(*route_text)) return malformed("the route to the authority does not parse");
  t.route = std::move(*route_text);
  auto secret = text_of(f[4], 64);
  if (!secret || secret->size() != 64 || !hex_shape(*secret)) return malformed("the secret is not 64 hex digits");
  t.secret = std::move(*secret);
  return t;
}

}  // namespace nodus::authority
