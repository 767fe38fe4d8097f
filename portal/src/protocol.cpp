#include "nodus/portal/protocol.hpp"

#include <msgpack.hpp>

#include "nodus/core/message_codec.hpp"

namespace nodus::portal {

namespace {

using msgpack::type::object_type;

// How many elements each kind's array has, version and kind included; 0 for unknown kinds.
std::size_t arity(std::uint64_t kind) {
  if (kind > 0xff) return 0;
  switch (static_cast<message_kind>(kind)) {
    case message_kind::open:
    case message_kind::opened:
    case message_kind::ack:
    case message_kind::eof: return 3;
    case message_kind::data:
    case message_kind::close: return 4;
    case message_kind::ping: return 2;
  }
  return 0;
}

bool is_uint(const msgpack::object& o) { return o.type == object_type::POSITIVE_INTEGER; }

void put_be(std::uint64_t v, std::size_t width, std::uint8_t* out) {
  for (std::size_t i = 0; i < width; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * (width - 1 - i)));
}

result<message> decode_fields(message_kind kind, const msgpack::object* e) {
  message m;
  m.kind = kind;
  switch (kind) {
    case message_kind::open:
    case message_kind::opened:
      if (!is_uint(e[2]) || e[2].via.u64 == 0) return errc::malformed;
      if (e[2].via.u64 > max_window_bytes) return errc::too_large;
      m.value = e[2].via.u64;
      return m;
    case message_kind::ack:
    case message_kind::eof:
      if (!is_uint(e[2])) return errc::malformed;
      m.value = e[2].via.u64;
      return m;
    case message_kind::data:
      if (!is_uint(e[2]) || e[3].type != object_type::BIN) return errc::malformed;
      if (e[3].via.bin.size > max_data_bytes) return errc::too_large;
      m.value = e[2].via.u64;
      m.data = byte_view(reinterpret_cast<const std::uint8_t*>(e[3].via.bin.ptr), e[3].via.bin.size);
      return m;
    case message_kind::close:
      if (!is_uint(e[2]) || e[2].via.u64 > 0xff || e[3].type != object_type::STR) return errc::malformed;
      if (e[3].via.str.size > max_reason_bytes) return errc::too_large;
      m.code = static_cast<close_code>(e[2].via.u64);
      m.reason.assign(e[3].via.str.ptr, e[3].via.str.size);
      return m;
    case message_kind::ping: return m;
  }
  return errc::malformed;
}

}  // namespace

std::string_view describe(close_code code) {
  switch (code) {
    case close_code::connect_failed: return "connect failed";
    case close_code::reset: return "connection reset";
    case close_code::timeout: return "timed out";
    case close_code::protocol: return "protocol error";
    case close_code::stopped: return "stopped";
    case close_code::refused: return "refused";
    case close_code::unsupported_version: return "unsupported version";
  }
  return "unknown reason";
}

void data_head(std::uint64_t offset, std::size_t size, std::uint8_t* out) {
  out[0] = 0x94;  // fixarray of 4
  out[1] = protocol_version;
  out[2] = static_cast<std::uint8_t>(message_kind::data);
  out[3] = 0xcf;  // uint 64
  put_be(offset, 8, out + 4);
  out[12] = 0xc6;  // bin 32
  put_be(size, 4, out + 13);
}

bytes encode(const message& m) {
  bytes out;
  if (m.kind == message_kind::data) {
    out.resize(data_head_size);
    data_head(m.value, m.data.size(), out.data());
    out.insert(out.end(), m.data.begin(), m.data.end());
    return out;
  }
  detail::byte_writer writer{out};
  msgpack::packer<detail::byte_writer> pack(writer);
  const auto n = arity(static_cast<std::uint64_t>(m.kind));
  pack.pack_array(static_cast<std::uint32_t>(n));
  pack.pack_uint8(protocol_version);
  pack.pack_uint8(static_cast<std::uint8_t>(m.kind));
  if (m.kind == message_kind::close) {
    pack.pack_uint8(static_cast<std::uint8_t>(m.code));
    const auto reason = std::string_view(m.reason).substr(0, max_reason_bytes);
    pack.pack_str(static_cast<std::uint32_t>(reason.size()));
    pack.pack_str_body(reason.data(), static_cast<std::uint32_t>(reason.size()));
  } else if (n == 3) {
    pack.pack_uint64(m.value);
  }
  return out;
}

result<message> decode(byte_view wire) {
  auto handle = detail::unpack_bounded(wire);
  if (!handle) return handle.error();
  const msgpack::object& o = handle.value().get();
  if (o.type != object_type::ARRAY || o.via.array.size < 2) return errc::malformed;
  const msgpack::object* e = o.via.array.ptr;
  if (!is_uint(e[0]) || !is_uint(e[1])) return errc::malformed;
  if (e[0].via.u64 != protocol_version) return errc::unsupported_version;
  const auto n = arity(e[1].via.u64);
  if (n == 0 || o.via.array.size != n) return errc::malformed;
  return decode_fields(static_cast<message_kind>(e[1].via.u64), e);
}

}  // namespace nodus::portal
