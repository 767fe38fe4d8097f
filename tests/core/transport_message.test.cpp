#include "nodus/core/transport_message.hpp"

#include <doctest/doctest.h>

using namespace nodus;

namespace {

transport_message sample() {
  return transport_message{route{"hop", address(1, "127.0.0.1:4000"), "echoer"}, route{"app"},
                           bytes{'h', 'e', 'l', 'l', 'o'}};
}

// A decoded value is valid when it respects every limit decoding promises.
void check_valid(const transport_message& m) {
  CHECK(m.onward_route.size() <= max_route_length);
  CHECK(m.return_route.size() <= max_route_length);
  for (const auto& r : {m.onward_route, m.return_route})
    for (const auto& a : r) CHECK((!a.value().empty() && a.value().size() <= max_address_length));
}

}  // namespace

TEST_CASE("a transport message round-trips") {
  const auto m = sample();
  auto decoded = decode_transport_message(encode(m));
  REQUIRE(decoded);
  CHECK(decoded.value() == m);
}

TEST_CASE("the wire form starts with the version") {
  const auto wire = encode(sample());
  REQUIRE(wire.size() > 2);
  CHECK(wire[0] == 0x94);  // fixarray of 4
  CHECK(wire[1] == transport_message_version);
}

TEST_CASE("an empty payload and empty routes round-trip") {
  const transport_message m{};
  CHECK(decode_transport_message(encode(m)).value() == m);
}

TEST_CASE("every truncation is refused") {
  const auto wire = encode(sample());
  for (std::size_t n = 0; n < wire.size(); ++n) {
    CAPTURE(n);
    auto decoded = decode_transport_message(byte_view(wire.data(), n));
    CHECK_FALSE(decoded);
  }
}

TEST_CASE("every single bit flip is refused or decodes to a valid message") {
  const auto wire = encode(sample());
  std::size_t refused = 0;
  for (std::size_t i = 0; i < wire.size() * 8; ++i) {
    auto flipped = wire;
    flipped[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto decoded = decode_transport_message(flipped);
    if (decoded)
      check_valid(decoded.value());
    else
      ++refused;
  }
  CHECK(refused > 0);
}

TEST_CASE("another version is reported as unsupported") {
  auto wire = encode(sample());
  wire[1] = 3;
  auto decoded = decode_transport_message(wire);
  REQUIRE_FALSE(decoded);
  CHECK(decoded.error() == errc::unsupported_version);
  wire[1] = 2;  // version 2 has five fields: the kind comes second
  CHECK(decode_transport_message(wire).error() == errc::malformed);
}

TEST_CASE("a delivery error notice is written as version 2 with its kind; an ordinary message stays version 1") {
  auto m = sample();
  m.kind = message_kind::delivery_error;
  const auto wire = encode(m);
  REQUIRE(wire.size() > 3);
  CHECK(wire[0] == 0x95);  // fixarray of 5
  CHECK(wire[1] == transport_message_kind_version);
  CHECK(wire[2] == 1);  // the kind
  const auto decoded = decode_transport_message(wire);
  REQUIRE(decoded);
  CHECK(decoded.value() == m);
  CHECK(decoded.value().kind == message_kind::delivery_error);

  // Byte for byte what a version-1 encoder wrote: [1, onward, return, payload].
  const auto ordinary = encode(sample());
  const bytes v1{0x94, 0x01, 0x93, 0x92, 0x00, 0xa3, 'h', 'o', 'p',  0x92, 0x01, 0xae, '1', '2', '7', '.', '0',
                 '.',  '0',  '.',  '1',  ':',  '4',  '0', '0', '0',  0x92, 0x00, 0xa6, 'e', 'c', 'h', 'o', 'e',
                 'r',  0x91, 0x92, 0x00, 0xa3, 'a',  'p', 'p', 0xc4, 0x05, 'h',  'e',  'l', 'l', 'o'};
  CHECK(ordinary == v1);
  CHECK(decode_transport_message(v1).value().kind == message_kind::message);
}

TEST_CASE("version 2 with kind 0 is an ordinary message; an unknown kind is unsupported") {
  auto m = sample();
  m.kind = message_kind::delivery_error;
  auto wire = encode(m);
  wire[2] = 0;
  const auto ordinary = decode_transport_message(wire);
  REQUIRE(ordinary);
  CHECK(ordinary.value() == sample());
  wire[2] = 2;
  CHECK(decode_transport_message(wire).error() == errc::unsupported_version);
  wire[2] = 0xa1;  // a str where the kind goes
  CHECK_FALSE(decode_transport_message(wire));
}

TEST_CASE("a notice's head is found, sized and decoded apart like any message's") {
  auto m = sample();
  m.kind = message_kind::delivery_error;
  const auto wire = encode(m);
  const std::span<const address> onward(m.onward_route.begin(), m.onward_route.end());
  const std::span<const address> back(m.return_route.begin(), m.return_route.end());
  CHECK(encoded_size(m.kind, onward, back, m.payload.size()) == wire.size());
  CHECK(encoded_size(onward, back, m.payload.size()) == wire.size() - 1);  // no kind field
  bytes head_written;
  encode_head_append(m.kind, onward, back, m.payload.size(), head_written);
  const auto head = find_head(wire);
  REQUIRE(head);
  CHECK(head->length == head_written.size());
  CHECK(head->payload_size == m.payload.size());
  CHECK(decode_transport_message(byte_view(wire.data(), head->length), bytes(m.payload)).value() == m);
  auto owned = wire;
  CHECK(decode_transport_message(std::move(owned)).value() == m);
  // The local form keeps the kind both ways.
  CHECK(to_local_message(m).kind == message_kind::delivery_error);
  CHECK(to_transport_message(to_local_message(m)) == m);
}

TEST_CASE("trailing bytes are refused") {
  auto wire = encode(sample());
  wire.push_back(0xc0);
  CHECK(decode_transport_message(wire).error() == errc::malformed);
}

TEST_CASE("a huge declared payload length is refused without allocating it") {
  // [1, [], [], bin32 of 4 GiB - 1] with no payload bytes behind it.
  const bytes wire{0x94, 0x01, 0x90, 0x90, 0xc6, 0xff, 0xff, 0xff, 0xff};
  auto decoded = decode_transport_message(wire);
  REQUIRE_FALSE(decoded);
  CHECK(decoded.error() == condition::protocol);
}

TEST_CASE("limits are enforced on payload, hops and address length") {
  auto m = sample();
  m.payload.assign(100, 0);
  CHECK(decode_transport_message(encode(m), {.max_payload = 99}).error() == errc::too_large);
  CHECK(decode_transport_message(encode(m), {.max_hops = 2}).error() == errc::too_large);
  CHECK(decode_transport_message(encode(m), {.max_address_length = 5}).error() == errc::too_large);
}

TEST_CASE("wrong types in any field are malformed") {
  const bytes not_an_array{0x01};
  CHECK(decode_transport_message(not_an_array).error() == errc::malformed);
  const bytes route_is_string{0x94, 0x01, 0xa1, 'x', 0x90, 0xc4, 0x00};
  CHECK(decode_transport_message(route_is_string).error() == errc::malformed);
  const bytes payload_is_string{0x94, 0x01, 0x90, 0x90, 0xa1, 'x'};
  CHECK(decode_transport_message(payload_is_string).error() == errc::malformed);
  const bytes hop_type_too_big{0x94, 0x01, 0x91, 0x92, 0xcd, 0x01, 0x00, 0xa1, 'x', 0x90, 0xc4, 0x00};
  CHECK(decode_transport_message(hop_type_too_big).error() == errc::malformed);
}

TEST_CASE("local metadata stays behind when a message leaves the node") {
  local_message local{route{"a"}, route{"b"}, bytes{1}, {{"secure_channel.identifier", "I123"}}};
  const auto wire_form = to_transport_message(local);
  const auto back = to_local_message(decode_transport_message(encode(wire_form)).value());
  CHECK(back.metadata.empty());
  CHECK(back.onward_route == local.onward_route);
  CHECK(back.payload == local.payload);
}

TEST_CASE("encoded_size matches the length of the wire form without encoding") {
  auto m = sample();
  const auto size_of = [](const transport_message& x) {
    return encoded_size(std::span<const address>(x.onward_route.begin(), x.onward_route.end()),
                        std::span<const address>(x.return_route.begin(), x.return_route.end()), x.payload.size());
  };
  CHECK(size_of(m) == encode(m).size());
  m.payload.assign(70000, 7);                              // bin32 header
  m.return_route.prepend(address(std::string(300, 'r')));  // str16 header
  CHECK(size_of(m) == encode(m).size());
  CHECK(size_of(transport_message{}) == encode(transport_message{}).size());
}

TEST_CASE("decoding bytes it may take over gives the same message, payload included") {
  for (std::size_t size : {0u, 1u, 300u, 70000u}) {
    auto m = sample();
    m.payload.assign(size, 9);
    auto wire = encode(m);
    auto decoded = decode_transport_message(std::move(wire));
    REQUIRE(decoded);
    CHECK(decoded.value() == m);
  }
  auto truncated = encode(sample());
  truncated.pop_back();
  CHECK(decode_transport_message(std::move(truncated)).error() == errc::malformed);
}

TEST_CASE("a message received as head and payload apart decodes as the whole") {
  for (std::size_t size : {0u, 200u, 300u, 70000u}) {  // bin8, bin8, bin16, bin32 headers
    auto m = sample();
    m.payload.assign(size, 3);
    const auto wire = encode(m);
    const auto head = find_head(wire);
    REQUIRE(head);
    CHECK(head->payload_size == size);
    CHECK(head->length + size == wire.size());
    const byte_view head_bytes(wire.data(), head->length);
    CHECK(decode_transport_message(head_bytes, bytes(wire.begin() + head->length, wire.end())).value() == m);
    // A head cut short is not a head yet; a payload of another length is refused.
    CHECK_FALSE(find_head(byte_view(wire.data(), head->length - 1)));
    CHECK(decode_transport_message(head_bytes, bytes(size + 1, 3)).error() == errc::malformed);
  }
  // Another encoder may use a wider bin header than needed: still the same message.
  auto wide = encode(sample());
  const auto head = find_head(wide).value();
  bytes wider(wide.begin(), wide.begin() + static_cast<std::ptrdiff_t>(head.length - 2));  // drop bin8 header
  const bytes bin32{0xc6, 0, 0, 0, static_cast<std::uint8_t>(head.payload_size)};
  wider.insert(wider.end(), bin32.begin(), bin32.end());
  CHECK(decode_transport_message(wider, bytes(wide.end() - static_cast<std::ptrdiff_t>(head.payload_size), wide.end()))
            .value() == sample());
  CHECK_FALSE(find_head(bytes{0x93, 1, 0x90, 0x90}));  // not the shape of a transport message
}

TEST_CASE("addresses that could forge log lines or terminal escapes are refused on decode") {
  const std::vector<std::string> forgeries{"echoer\n[info] relay: 'forward_to_bob' registered",
                                           "a\x1b[2Jb",
                                           "tab\there",
                                           "space here",
                                           "a=>b",
                                           std::string("nul\0x", 5),
                                           "caf\xc3\xa9"};
  for (const auto& evil : forgeries) {
    const transport_message m{route{address(evil)}, route{"app"}, bytes{1}};
    auto decoded = decode_transport_message(encode(m));
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error() == errc::malformed);
    const transport_message back{route{"echoer"}, route{address(evil)}, bytes{1}};
    CHECK_FALSE(decode_transport_message(encode(back)));
  }
}

TEST_CASE("the quick decoder of the encoder's own form agrees with msgpack's general one") {
  // Every truncation and every single bit flip of a sample gives the same value or error code
  // through both; so do other encodings of the same message, which only the general one reads.
  const auto wire = encode(sample());
  const auto agree = [](byte_view w) {
    const auto quick = decode_transport_message(w);
    const auto general = detail::decode_transport_message_general(w);
    REQUIRE(quick.has_value() == general.has_value());
    if (quick) {
      CHECK(quick.value() == general.value());
    } else {
      CHECK(quick.error() == general.error());
    }
  };
  agree(wire);
  for (std::size_t n = 0; n < wire.size(); ++n) agree(byte_view(wire).first(n));
  for (std::size_t i = 0; i < wire.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      bytes flipped = wire;
      flipped[i] ^= static_cast<std::uint8_t>(1u << bit);
      agree(flipped);
    }
  // The version as a uint 8 (0xcc 0x01) instead of a fixint: the same message, read by the
  // general decoder.
  bytes wide{0x94, 0xcc, 0x01};
  wide.insert(wide.end(), wire.begin() + 2, wire.end());
  agree(wide);
  REQUIRE(decode_transport_message(wide));
  CHECK(decode_transport_message(wide).value() == sample());
}

TEST_CASE("a message decoded inside a larger buffer takes the buffer over as its payload") {
  const auto m = sample();
  bytes buffer{0xaa, 0xbb};
  const auto wire = encode(m);
  buffer.insert(buffer.end(), wire.begin(), wire.end());
  buffer.push_back(0xcc);  // something after it, as a secure channel's content kind
  const auto inside = byte_view(buffer).subspan(2, wire.size());
  const auto* storage = buffer.data();
  auto decoded = decode_transport_message_within(std::move(buffer), inside);
  REQUIRE(decoded);
  CHECK(decoded.value() == m);
  CHECK(decoded.value().payload.data() == storage);  // the same buffer, not a copy
}
