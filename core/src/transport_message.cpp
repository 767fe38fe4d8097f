#include "nodus/core/transport_message.hpp"

#include <cstring>

#include "nodus/core/message_codec.hpp"

namespace nodus {
namespace {

// Counts what a packer writes instead of storing it.
struct byte_counter {
  std::size_t size = 0;
  void write(const char*, std::size_t n) { size += n; }
};

// Packs a route; Stream is a byte_writer when encoding, a byte_counter when measuring.
template <class Stream>
void pack_route(msgpack::packer<Stream>& p, std::span<const address> hops) {
  p.pack_array(static_cast<std::uint32_t>(hops.size()));
  for (const auto& hop : hops) {
    p.pack_array(2);
    p.pack(hop.type());
    p.pack(hop.value());
  }
}

// Packs everything before the payload's bytes. An ordinary message keeps version 1 (four
// fields); only another kind needs version 2 and its kind field.
template <class Stream>
void pack_head(msgpack::packer<Stream>& p, message_kind kind, std::span<const address> onward,
               std::span<const address> back, std::size_t payload_size) {
  if (kind == message_kind::message) {
    p.pack_array(4);
    p.pack(transport_message_version);
  } else {
    p.pack_array(5);
    p.pack(transport_message_kind_version);
    p.pack(static_cast<std::uint8_t>(kind));
  }
  pack_route(p, onward);
  pack_route(p, back);
  p.pack_bin(static_cast<std::uint32_t>(payload_size));
}

result<route> unpack_route(const msgpack::object& o, const decode_limits& limits) {
  if (o.type != msgpack::type::ARRAY) return errc::malformed;
  if (o.via.array.size > limits.max_hops) return errc::too_large;
  route hops;
  hops.reserve(o.via.array.size + 1);  // room for the hop that receives it to prepend itself
  for (const auto& hop : std::span(o.via.array.ptr, o.via.array.size)) {
    if (hop.type != msgpack::type::ARRAY || hop.via.array.size != 2) return errc::malformed;
    const auto& type = hop.via.array.ptr[0];
    const auto& value = hop.via.array.ptr[1];
    if (type.type != msgpack::type::POSITIVE_INTEGER || type.via.u64 > 255) return errc::malformed;
    if (value.type != msgpack::type::STR || value.via.str.size == 0) return errc::malformed;
    if (value.via.str.size > limits.max_address_length) return errc::too_large;
    const std::string_view text(value.via.str.ptr, value.via.str.size);
    // Only printable values: a peer must not be able to put line breaks or terminal escapes
    // into the logs of the nodes its messages pass.
    if (!address::valid_value(text)) return errc::malformed;
    hops.append(address(static_cast<address::transport_type>(type.via.u64), std::string(text)));
  }
  return hops;
}

}  // namespace

bytes encode(const transport_message& m) {
  bytes out;
  encode_append(m, out);
  return out;
}

void encode_append(const transport_message& m, bytes& out) {
  out.reserve(out.size() + 64 + m.payload.size());
  encode_head_append(m.kind, std::span<const address>(m.onward_route.begin(), m.onward_route.end()),
                     std::span<const address>(m.return_route.begin(), m.return_route.end()), m.payload.size(), out);
  out.insert(out.end(), m.payload.begin(), m.payload.end());
}

void encode_head_append(std::span<const address> onward, std::span<const address> back, std::size_t payload_size,
                        bytes& out) {
  encode_head_append(message_kind::message, onward, back, payload_size, out);
}

void encode_head_append(message_kind kind, std::span<const address> onward, std::span<const address> back,
                        std::size_t payload_size, bytes& out) {
  detail::byte_writer writer{out};
  msgpack::packer<detail::byte_writer> p(writer);
  pack_head(p, kind, onward, back, payload_size);
}

std::size_t encoded_size(std::span<const address> onward, std::span<const address> back, std::size_t payload_size) {
  return encoded_size(message_kind::message, onward, back, payload_size);
}

std::size_t encoded_size(message_kind kind, std::span<const address> onward, std::span<const address> back,
                         std::size_t payload_size) {
  byte_counter counter;
  msgpack::packer<byte_counter> p(counter);
  pack_head(p, kind, onward, back, payload_size);
  return counter.size + payload_size;
}

namespace {

// The wire form as this build's encoder writes it, read without msgpack's object tree (and its
// zone, an allocation per message): fixarray or array 16/32 headers, fixint version and kind,
// hops as fixarray 2 of a fixint or uint 8 type and a str of any width, a bin of any width. It
// accepts only what decodes, checks included, and nothing trails: everything else, valid in
// another msgpack encoding or not, goes to the general decoder, which then says what is wrong.
// So both give the same result on every input.
class canonical_reader {
public:
  explicit canonical_reader(byte_view in) : in_(in) {}
  bool at_end() const { return at_ == in_.size(); }
  std::size_t left() const { return in_.size() - at_; }
  std::optional<std::uint64_t> big_endian(std::size_t n) {
    if (left() < n) return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | in_[at_++];
    return v;
  }
  std::optional<std::uint8_t> byte() { return at_ < in_.size() ? std::optional(in_[at_++]) : std::nullopt; }
  std::optional<std::uint64_t> fixint() {
    auto b = byte();
    if (!b || *b > 0x7f) return std::nullopt;
    return *b;
  }
  std::optional<std::uint64_t> array() {
    auto b = byte();
    if (!b) return std::nullopt;
    if (*b >= 0x90 && *b <= 0x9f) return *b & 0x0f;
    if (*b == 0xdc) return big_endian(2);
    if (*b == 0xdd) return big_endian(4);
    return std::nullopt;
  }
  std::optional<std::string_view> str() {
    auto b = byte();
    if (!b) return std::nullopt;
    std::optional<std::uint64_t> n;
    if (*b >= 0xa0 && *b <= 0xbf)
      n = *b & 0x1f;
    else if (*b >= 0xd9 && *b <= 0xdb)
      n = big_endian(std::size_t{1} << (*b - 0xd9));
    if (!n || left() < *n) return std::nullopt;
    const std::string_view text(reinterpret_cast<const char*>(in_.data()) + at_, static_cast<std::size_t>(*n));
    at_ += static_cast<std::size_t>(*n);
    return text;
  }
  std::optional<byte_view> bin() {
    auto b = byte();
    if (!b || *b < 0xc4 || *b > 0xc6) return std::nullopt;
    auto n = big_endian(std::size_t{1} << (*b - 0xc4));
    if (!n || left() < *n) return std::nullopt;
    const auto body = in_.subspan(at_, static_cast<std::size_t>(*n));
    at_ += static_cast<std::size_t>(*n);
    return body;
  }
  // A route that passes every check of unpack_route.
  std::optional<route> route_of(const decode_limits& limits) {
    auto hops = array();
    if (!hops || *hops > limits.max_hops || *hops > left()) return std::nullopt;
    route out;
    out.reserve(static_cast<std::size_t>(*hops) + 1);  // as unpack_route
    for (std::uint64_t i = 0; i < *hops; ++i) {
      if (byte() != std::optional<std::uint8_t>(0x92)) return std::nullopt;
      auto b = byte();
      std::uint64_t type = 0;
      if (b && *b <= 0x7f)
        type = *b;
      else if (b == std::optional<std::uint8_t>(0xcc) && (left() >= 1))
        type = *big_endian(1);
      else
        return std::nullopt;
      auto text = str();
      if (!text || text->empty() || text->size() > limits.max_address_length || !address::valid_value(*text))
        return std::nullopt;
      out.append(address(static_cast<address::transport_type>(type), std::string(*text)));
    }
    return out;
  }

private:
  byte_view in_;
  std::size_t at_ = 0;
};

template <class TakePayload>
std::optional<transport_message> decode_canonical(byte_view wire, const decode_limits& limits,
                                                  TakePayload& take_payload) {
  canonical_reader r(wire);
  const auto fields = r.array();
  if (fields != 4u && fields != 5u) return std::nullopt;
  const auto version = r.fixint();
  auto kind = message_kind::message;
  if (fields == 4u) {
    if (version != transport_message_version) return std::nullopt;
  } else {
    if (version != transport_message_kind_version) return std::nullopt;
    const auto k = r.fixint();
    if (!k || *k > static_cast<std::uint64_t>(message_kind::delivery_error)) return std::nullopt;
    kind = static_cast<message_kind>(*k);
  }
  auto onward = r.route_of(limits);
  if (!onward) return std::nullopt;
  auto back = r.route_of(limits);
  if (!back) return std::nullopt;
  const auto payload = r.bin();
  if (!payload || payload->size() > limits.max_payload || !r.at_end()) return std::nullopt;
  return transport_message{std::move(*onward), std::move(*back), take_payload(payload->data(), payload->size()), kind};
}

// Decodes `wire` and hands the payload's bytes to `take_payload(pointer, size)`.
template <class TakePayload>
result<transport_message> decode_with(byte_view wire, const decode_limits& limits, TakePayload take_payload,
                                      bool quick_path = true) {
  if (quick_path) {
    if (auto quick = decode_canonical(wire, limits, take_payload)) return std::move(*quick);
  }
  auto handle = detail::unpack_bounded(wire);
  if (!handle) return handle.error();
  const msgpack::object& o = handle.value().get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size < 1) return errc::malformed;
  const auto* fields = o.via.array.ptr;
  if (fields[0].type != msgpack::type::POSITIVE_INTEGER) return errc::malformed;
  const auto version = fields[0].via.u64;
  if (version != transport_message_version && version != transport_message_kind_version)
    return errc::unsupported_version;
  auto kind = message_kind::message;
  if (version == transport_message_kind_version) {
    if (o.via.array.size != 5) return errc::malformed;
    const auto& k = fields[1];
    if (k.type != msgpack::type::POSITIVE_INTEGER) return errc::malformed;
    if (k.via.u64 > static_cast<std::uint64_t>(message_kind::delivery_error)) return errc::unsupported_version;
    kind = static_cast<message_kind>(k.via.u64);
    ++fields;  // the routes and the payload follow the kind
  } else if (o.via.array.size != 4) {
    return errc::malformed;
  }

  auto onward = unpack_route(fields[1], limits);
  if (!onward) return onward.error();
  auto back = unpack_route(fields[2], limits);
  if (!back) return back.error();
  const auto& payload = fields[3];
  if (payload.type != msgpack::type::BIN) return errc::malformed;
  if (payload.via.bin.size > limits.max_payload) return errc::too_large;
  const auto* body = reinterpret_cast<const std::uint8_t*>(payload.via.bin.ptr);
  return transport_message{std::move(onward).value(), std::move(back).value(), take_payload(body, payload.via.bin.size),
                           kind};
}

}  // namespace

result<transport_message> decode_transport_message(byte_view wire, const decode_limits& limits) {
  return decode_with(wire, limits, [](const std::uint8_t* body, std::size_t size) { return bytes(body, body + size); });
}

result<transport_message> decode_transport_message(bytes&& wire, const decode_limits& limits) {
  return decode_with(wire, limits, [&wire](const std::uint8_t*, std::size_t size) {
    // The payload is the last field and nothing trails it: its bytes are the last `size` of `wire`.
    wire.erase(wire.begin(), wire.end() - static_cast<std::ptrdiff_t>(size));
    return std::move(wire);
  });
}

namespace detail {
result<transport_message> decode_transport_message_general(byte_view wire, const decode_limits& limits) {
  return decode_with(
      wire, limits, [](const std::uint8_t* body, std::size_t size) { return bytes(body, body + size); }, false);
}
}  // namespace detail

result<transport_message> decode_transport_message_within(bytes&& buffer, byte_view wire, const decode_limits& limits) {
  return decode_with(wire, limits, [&buffer](const std::uint8_t* body, std::size_t size) {
    // The routes are decoded (copied out) by now, so the payload may move over them.
    std::memmove(buffer.data(), body, size);
    buffer.resize(size);
    return std::move(buffer);
  });
}

namespace {

// Reads msgpack headers without allocating; every read fails once the input is exhausted.
class head_reader {
public:
  explicit head_reader(byte_view in) : in_(in) {}
  std::size_t at() const { return at_; }
  std::optional<std::uint8_t> byte() { return at_ < in_.size() ? std::optional(in_[at_++]) : std::nullopt; }
  std::optional<std::uint64_t> big_endian(std::size_t n) {
    if (in_.size() - at_ < n) return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | in_[at_++];
    return v;
  }
  bool skip(std::uint64_t n) {
    if (in_.size() - at_ < n) return false;
    at_ += static_cast<std::size_t>(n);
    return true;
  }
  // A positive integer: fixint or uint8.
  bool small_uint() {
    auto b = byte();
    return b && (*b <= 0x7f || (*b == 0xcc && big_endian(1)));
  }
  // An array header; its element count.
  std::optional<std::uint64_t> array() {
    auto b = byte();
    if (!b) return std::nullopt;
    if (*b >= 0x90 && *b <= 0x9f) return *b & 0x0f;
    if (*b == 0xdc) return big_endian(2);
    if (*b == 0xdd) return big_endian(4);
    return std::nullopt;
  }
  bool str() {
    auto b = byte();
    if (!b) return false;
    std::optional<std::uint64_t> n;
    if (*b >= 0xa0 && *b <= 0xbf)
      n = *b & 0x1f;
    else if (*b >= 0xd9 && *b <= 0xdb)
      n = big_endian(std::size_t{1} << (*b - 0xd9));
    return n && skip(*n);
  }
  std::optional<std::uint64_t> bin_header() {
    auto b = byte();
    if (!b || *b < 0xc4 || *b > 0xc6) return std::nullopt;
    return big_endian(std::size_t{1} << (*b - 0xc4));
  }
  bool route() {
    auto hops = array();
    if (!hops) return false;
    for (std::uint64_t i = 0; i < *hops; ++i) {
      auto pair = array();
      if (pair != 2u || !small_uint() || !str()) return false;
    }
    return true;
  }

private:
  byte_view in_;
  std::size_t at_ = 0;
};

}  // namespace

namespace {
// find_head, also telling where the payload's bin header starts.
std::optional<wire_head> find_head(byte_view wire, std::size_t& bin_header_at) {
  head_reader r(wire);
  const auto fields = r.array();
  if (fields != 4u && fields != 5u) return std::nullopt;
  if (!r.small_uint() || (fields == 5u && !r.small_uint())) return std::nullopt;  // version, and a kind
  if (!r.route() || !r.route()) return std::nullopt;
  bin_header_at = r.at();
  auto payload_size = r.bin_header();
  if (!payload_size) return std::nullopt;
  return wire_head{r.at(), static_cast<std::size_t>(*payload_size)};
}
}  // namespace

std::optional<wire_head> find_head(byte_view wire) {
  std::size_t bin_header_at = 0;
  return find_head(wire, bin_header_at);
}

result<transport_message> decode_transport_message(byte_view head, bytes&& payload, const decode_limits& limits) {
  std::size_t bin_header_at = 0;
  const auto found = find_head(head, bin_header_at);
  if (!found || found->length != head.size() || found->payload_size != payload.size()) return errc::malformed;
  if (payload.size() > limits.max_payload) return errc::too_large;
  // Decode the head as a whole message with an empty payload (bin8 of length 0), then give it
  // the real payload.
  bytes whole(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(bin_header_at));
  whole.push_back(0xc4);
  whole.push_back(0x00);
  return decode_with(whole, limits, [&payload](const std::uint8_t*, std::size_t) { return std::move(payload); });
}

local_message to_local_message(transport_message m) {
  return local_message{std::move(m.onward_route), std::move(m.return_route), std::move(m.payload), {}, {}, m.kind};
}

transport_message to_transport_message(local_message m) {
  return transport_message{std::move(m.onward_route), std::move(m.return_route), std::move(m.payload), m.kind};
}

}  // namespace nodus
