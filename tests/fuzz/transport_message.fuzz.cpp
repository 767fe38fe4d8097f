// Fuzzes the transport message codec: `decode_transport_message` in its three forms (borrowed
// bytes, owned bytes, head and payload apart) and `find_head`, for both versions of the wire form
// (1: an ordinary message, 2: with a kind), and `decode_delivery_error`, the payload of a
// delivery-error notice (on the whole input, and on every decoded message's payload).
//
// Input: [limits] then the wire form. `limits` picks the decode limits (payload, hops, address
// length) from small sets, so every too_large check is reachable with short inputs.
//
// Properties: the borrowed and owned forms agree (value or error code), with each other, with
// the form that decodes inside a larger buffer, and with msgpack's general decoder alone (the
// quick path for the encoder's own form must not change any result); when `find_head` finds
// a head it lies inside the input, and when head and payload make up the whole input the split
// form succeeds exactly when the whole form does, with the same message; in a message that
// decodes, a head that `find_head` finds ends where its payload starts; re-encoding it gives bytes of
// `encoded_size`, whose head is found and which decode (in all three forms) to the same message;
// no decode makes an allocation out of proportion to its input. A delivery error that decodes has
// a reportable code and a printable reason, and re-encoding it decodes to the same (cut to the
// reason limit).

#include "nodus/core/transport_message.hpp"
#include "fuzz_support.hpp"
#include "nodus/core/delivery_error.hpp"

using namespace nodus;
using nodus::fuzz::allocation_watch;
using nodus::fuzz::input;

namespace {

decode_limits limits_from(std::uint8_t b) {
  static constexpr std::size_t payloads[4] = {default_max_payload, 0, 16, 1024};
  static constexpr std::size_t hops[4] = {max_route_length, 0, 1, 4};
  static constexpr std::size_t lengths[4] = {nodus::max_address_length, 1, 8, 300};
  return decode_limits{payloads[b & 3], hops[(b >> 2) & 3], lengths[(b >> 4) & 3]};
}

std::span<const address> hops_of(const route& r) { return {r.begin(), r.end()}; }

bool same(const result<transport_message>& a, const result<transport_message>& b) {
  if (a.has_value() != b.has_value()) return false;
  return a.has_value() ? a.value() == b.value() : a.error() == b.error();
}

// The split form on `wire`, when `find_head` says where its payload starts and it ends there.
std::optional<result<transport_message>> decode_split(byte_view wire, const decode_limits& limits) {
  const auto head = find_head(wire);
  if (!head) return std::nullopt;
  NODUS_FUZZ_CHECK(head->length <= wire.size());
  if (wire.size() - head->length != head->payload_size) return std::nullopt;
  return decode_transport_message(wire.first(head->length), bytes(wire.begin() + head->length, wire.end()), limits);
}

// A decoded message, re-encoded, must come back the same through every form.
void check_round_trip(const transport_message& m, const decode_limits& limits) {
  const bytes wire = encode(m);
  const auto onward = hops_of(m.onward_route), back = hops_of(m.return_route);
  NODUS_FUZZ_CHECK(encoded_size(m.kind, onward, back, m.payload.size()) == wire.size());
  NODUS_FUZZ_CHECK(wire.size() > 1 && wire[1] == (m.kind == message_kind::message ? transport_message_version
                                                                                  : transport_message_kind_version));
  bytes head;
  encode_head_append(m.kind, onward, back, m.payload.size(), head);
  NODUS_FUZZ_CHECK(head.size() + m.payload.size() == wire.size());
  NODUS_FUZZ_CHECK(std::equal(head.begin(), head.end(), wire.begin()));

  const auto found = find_head(wire);
  NODUS_FUZZ_CHECK(found && found->length == head.size() && found->payload_size == m.payload.size());
  const auto again = decode_transport_message(byte_view(wire), limits);
  NODUS_FUZZ_CHECK(again && again.value() == m);
  const auto owned = decode_transport_message(bytes(wire), limits);
  NODUS_FUZZ_CHECK(owned && owned.value() == m);
  const auto split = decode_transport_message(head, bytes(m.payload), limits);
  NODUS_FUZZ_CHECK(split && split.value() == m);
}

// A delivery error's payload: bounded, and what decodes is sane and survives a round trip.
void check_delivery_error(byte_view payload) {
  std::optional<result<delivery_error>> decoded;
  {
    allocation_watch watch;
    decoded = decode_delivery_error(payload);
    watch.check(allocation_watch::decoder_limit(payload.size()));
  }
  if (!decoded->has_value()) return;
  const auto& e = decoded->value();
  NODUS_FUZZ_CHECK(reportable(e.code));
  NODUS_FUZZ_CHECK(std::all_of(e.reason.begin(), e.reason.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
  const auto again = decode_delivery_error(encode_delivery_error(e));
  NODUS_FUZZ_CHECK(again && again.value().code == e.code &&
                   again.value().reason == e.reason.substr(0, max_delivery_error_reason));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const auto limits = limits_from(in.u8());
  const auto wire = in.rest();
  check_delivery_error(wire);

  std::optional<result<transport_message>> borrowed, owned, split, general, within;
  {
    allocation_watch watch;
    borrowed = decode_transport_message(wire, limits);
    owned = decode_transport_message(bytes(wire.begin(), wire.end()), limits);
    split = decode_split(wire, limits);
    general = detail::decode_transport_message_general(wire, limits);
    watch.check(allocation_watch::decoder_limit(wire.size()));
  }
  {
    // The wire form inside a buffer, after a few bytes of something else (a secure channel's
    // decrypted frame).
    bytes buffer(3, 0xee);
    buffer.insert(buffer.end(), wire.begin(), wire.end());
    const byte_view inside = byte_view(buffer).subspan(3);
    within = decode_transport_message_within(std::move(buffer), inside, limits);
  }
  NODUS_FUZZ_CHECK(same(*borrowed, *owned));
  NODUS_FUZZ_CHECK(same(*borrowed, *general));
  NODUS_FUZZ_CHECK(same(*borrowed, *within));
  if (split) {
    NODUS_FUZZ_CHECK(split->has_value() == borrowed->has_value());
    if (split->has_value()) NODUS_FUZZ_CHECK(split->value() == borrowed->value());
  }
  if (!borrowed->has_value()) return 0;

  const auto& m = borrowed->value();
  // find_head reads only the compact integer forms the encoder writes, so it may find nothing
  // in a valid message; what it does find must be where the decoder found the payload.
  if (const auto head = find_head(wire))
    NODUS_FUZZ_CHECK(head->payload_size == m.payload.size() && head->length + m.payload.size() == wire.size());
  check_round_trip(m, limits);
  if (m.kind == message_kind::delivery_error) check_delivery_error(m.payload);
  return 0;
}
