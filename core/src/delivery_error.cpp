#include "nodus/core/delivery_error.hpp"

#include <iterator>
#include <optional>

#include <fmt/format.h>

#include "nodus/core/message_codec.hpp"

namespace nodus {
namespace {

// The wire's codes: fixed here, independent of the numbering of `errc`.
enum class wire_code : std::uint8_t { unknown_address = 1, access_denied = 2, too_large = 3 };

std::optional<wire_code> to_wire(std::error_code code) {
  if (code == errc::unknown_address) return wire_code::unknown_address;
  if (code == errc::access_denied) return wire_code::access_denied;
  if (code == errc::too_large) return wire_code::too_large;
  return std::nullopt;
}

std::optional<errc> from_wire(std::uint64_t code) {
  switch (code) {
    case static_cast<std::uint64_t>(wire_code::unknown_address): return errc::unknown_address;
    case static_cast<std::uint64_t>(wire_code::access_denied): return errc::access_denied;
    case static_cast<std::uint64_t>(wire_code::too_large): return errc::too_large;
    default: return std::nullopt;
  }
}

// Printable ASCII as is (the backslash too: an honest reason is already escaped), anything
// else as \xNN.
std::string sanitized(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const auto c : text) {
    const auto b = static_cast<std::uint8_t>(c);
    if (b >= 0x20 && b < 0x7f)
      out.push_back(c);
    else
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", b);
  }
  return out;
}

}  // namespace

bool reportable(std::error_code code) noexcept { return to_wire(code).has_value(); }

bytes encode_delivery_error(const delivery_error& e) {
  auto reason = sanitized(e.reason);
  if (reason.size() > max_delivery_error_reason) reason.resize(max_delivery_error_reason);
  bytes out;
  detail::byte_writer writer{out};
  msgpack::packer<detail::byte_writer> p(writer);
  p.pack_array(3);
  p.pack(delivery_error_version);
  p.pack(static_cast<std::uint8_t>(to_wire(e.code).value_or(wire_code::unknown_address)));
  p.pack(reason);
  return out;
}

result<delivery_error> decode_delivery_error(byte_view payload) {
  auto handle = detail::unpack_bounded(payload);
  if (!handle) return handle.error();
  const msgpack::object& o = handle.value().get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size < 1) return errc::malformed;
  const auto* fields = o.via.array.ptr;
  if (fields[0].type != msgpack::type::POSITIVE_INTEGER) return errc::malformed;
  if (fields[0].via.u64 != delivery_error_version) return errc::unsupported_version;
  if (o.via.array.size != 3) return errc::malformed;
  if (fields[1].type != msgpack::type::POSITIVE_INTEGER) return errc::malformed;
  const auto code = from_wire(fields[1].via.u64);
  if (!code) return errc::unsupported_version;
  if (fields[2].type != msgpack::type::STR) return errc::malformed;
  if (fields[2].via.str.size > max_delivery_error_reason) return errc::too_large;
  return delivery_error{*code, sanitized(std::string_view(fields[2].via.str.ptr, fields[2].via.str.size))};
}

bool should_report(const local_message& m, std::error_code code) noexcept {
  return m.origin && m.kind == message_kind::message && !m.return_route.empty() && reportable(code);
}

local_message delivery_error_notice(const local_message& m, const delivery_error& e) {
  local_message notice;
  notice.onward_route = m.return_route;
  notice.payload = encode_delivery_error(e);
  notice.kind = message_kind::delivery_error;
  return notice;
}

std::string printable_cut(std::string_view text, std::size_t max) {
  auto out = printable(as_bytes(text));
  if (out.size() > max) {
    out.resize(max >= 3 ? max - 3 : max);
    if (max >= 3) out += "...";
  }
  return out;
}

}  // namespace nodus
