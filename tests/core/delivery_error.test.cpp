#include "nodus/core/delivery_error.hpp"

#include <doctest/doctest.h>

#include "nodus/core/message_codec.hpp"

using namespace nodus;

namespace {

local_message from_elsewhere() {
  local_message m{route{"nosuchworker"}, route{"tcp.in.1", "reply.7"}, bytes{'h', 'i'}, {}};
  m.origin = std::make_shared<const flow_origin>(flow_origin{"tcp.1", "tcp-listener.1", "tcp connection from peer"});
  return m;
}

template <class... T>
bytes packed(const T&... fields) {
  bytes out;
  detail::byte_writer writer{out};
  msgpack::packer<detail::byte_writer> p(writer);
  p.pack_array(sizeof...(T));
  (p.pack(fields), ...);
  return out;
}

}  // namespace

TEST_CASE("a delivery error round-trips, each code as its own wire number") {
  const std::pair<errc, std::uint8_t> codes[] = {
      {errc::unknown_address, 1}, {errc::access_denied, 2}, {errc::too_large, 3}};
  for (const auto& [code, wire_code] : codes) {
    const delivery_error e{code, "no worker at 'x'"};
    const auto wire = encode_delivery_error(e);
    CHECK(wire == packed(std::uint8_t{1}, wire_code, std::string("no worker at 'x'")));
    CHECK(decode_delivery_error(wire).value() == e);
  }
}

TEST_CASE("only no-such-address, access denied and too large are reportable") {
  CHECK(reportable(errc::unknown_address));
  CHECK(reportable(errc::access_denied));
  CHECK(reportable(errc::too_large));
  CHECK_FALSE(reportable(errc::timeout));
  CHECK_FALSE(reportable(errc::stopped));
  CHECK_FALSE(reportable(std::make_error_code(std::errc::connection_refused)));
}

TEST_CASE("a reason is escaped and cut to the limit when encoded") {
  const delivery_error e{errc::unknown_address, "a\nb\x1b" + std::string(300, 'x')};
  const auto decoded = decode_delivery_error(encode_delivery_error(e)).value();
  CHECK(decoded.reason.size() == max_delivery_error_reason);
  CHECK(decoded.reason.starts_with("a\\x0ab\\x1bxxx"));
}

TEST_CASE("what another node wrote is escaped when decoded") {
  const auto wire = packed(std::uint8_t{1}, std::uint8_t{2}, std::string("evil\r\n[info] \x1b[2J\\ok"));
  const auto decoded = decode_delivery_error(wire).value();
  CHECK(decoded.code == errc::access_denied);
  CHECK(decoded.reason == "evil\\x0d\\x0a[info] \\x1b[2J\\ok");
}

TEST_CASE("anything but the wire form is refused") {
  CHECK(decode_delivery_error(bytes{}).error() == errc::malformed);
  CHECK(decode_delivery_error(bytes{0x01}).error() == errc::malformed);
  CHECK(decode_delivery_error(packed(std::uint8_t{2}, std::uint8_t{1}, std::string("r"))).error() ==
        errc::unsupported_version);
  CHECK(decode_delivery_error(packed(std::uint8_t{1}, std::uint8_t{9}, std::string("r"))).error() ==
        errc::unsupported_version);
  CHECK(decode_delivery_error(packed(std::uint8_t{1}, std::uint8_t{0}, std::string("r"))).error() ==
        errc::unsupported_version);
  CHECK(decode_delivery_error(packed(std::uint8_t{1}, std::uint8_t{1})).error() == errc::malformed);
  CHECK(decode_delivery_error(packed(std::uint8_t{1}, std::string("1"), std::string("r"))).error() == errc::malformed);
  CHECK(decode_delivery_error(packed(std::uint8_t{1}, std::uint8_t{1}, 7)).error() == errc::malformed);
  CHECK(decode_delivery_error(packed(std::uint8_t{1}, std::uint8_t{1}, std::string(161, 'r'))).error() ==
        errc::too_large);
  auto trailing = encode_delivery_error({errc::unknown_address, "r"});
  trailing.push_back(0xc0);
  CHECK(decode_delivery_error(trailing).error() == errc::malformed);
  const auto wire = encode_delivery_error({errc::unknown_address, "no worker at 'x'"});
  for (std::size_t n = 0; n < wire.size(); ++n) CHECK_FALSE(decode_delivery_error(byte_view(wire.data(), n)));
}

TEST_CASE("a notice is due only for a message from another node that is not a notice and has a return route") {
  auto m = from_elsewhere();
  CHECK(should_report(m, errc::unknown_address));
  CHECK(should_report(m, errc::access_denied));
  CHECK_FALSE(should_report(m, errc::timeout));
  CHECK_FALSE(should_report(m, errc::stopped));

  auto local = m;
  local.origin.reset();  // made on this node: its sender gets the error code itself
  CHECK_FALSE(should_report(local, errc::unknown_address));
  auto notice = m;
  notice.kind = message_kind::delivery_error;  // never a notice about a notice
  CHECK_FALSE(should_report(notice, errc::unknown_address));
  auto nowhere = m;
  nowhere.return_route = route();
  CHECK_FALSE(should_report(nowhere, errc::unknown_address));
}

TEST_CASE("a notice goes back along the return route, answers nothing and carries the error") {
  const auto m = from_elsewhere();
  const auto notice = delivery_error_notice(m, {errc::unknown_address, "no worker at 'nosuchworker'"});
  CHECK(notice.kind == message_kind::delivery_error);
  CHECK(notice.onward_route == m.return_route);
  CHECK(notice.return_route.empty());
  CHECK_FALSE(notice.origin);
  CHECK(notice.metadata.empty());
  const auto e = decode_delivery_error(notice.payload).value();
  CHECK(e.code == errc::unknown_address);
  CHECK(e.reason == "no worker at 'nosuchworker'");
  CHECK_FALSE(should_report(notice, errc::unknown_address));
  CHECK(notice.payload.size() < 64);  // small: no copy of the message it is about
}

TEST_CASE("printable_cut escapes and marks the cut") {
  CHECK(printable_cut("abc", 10) == "abc");
  CHECK(printable_cut("a\nb", 10) == "a\\x0ab");
  CHECK(printable_cut(std::string(100, 'a'), 10) == "aaaaaaa...");
  CHECK(printable_cut("abcdef", 2) == "ab");
}
