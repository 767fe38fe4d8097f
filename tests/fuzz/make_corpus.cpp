// Writes the seed corpus of every fuzz target: valid encodings made with the project's own
// encoders (fixed keys, so the same files on every run) and a few edge cases.
//   fuzz_corpus DIR     writes DIR/<target>/<name> (tests/fuzz/corpus is the committed one)
// Regression inputs (crashes found and fixed) live beside these files under names starting with
// `crash-`; this program does not touch them.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "channel_frame.hpp"
#include "fuzz_identities.hpp"
#include "fuzz_noise.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/core/json.hpp"
#include "nodus/core/message_codec.hpp"
#include "nodus/core/transport_message.hpp"
#include "nodus/portal/protocol.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/stream/protocol.hpp"
#include "nodus/transports/tcp_frame.hpp"

using namespace nodus;
namespace fs = std::filesystem;
namespace nsc = nodus::secure_channel;

namespace {

fs::path root;

void write(const std::string& target, const std::string& name, byte_view content) {
  fs::create_directories(root / target);
  std::ofstream out(root / target / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_corpus: cannot write %s\n", (root / target / name).c_str());
    std::exit(1);
  }
}

bytes cat(std::initializer_list<byte_view> parts) {
  bytes out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bytes text(std::string_view s) { return bytes(s.begin(), s.end()); }

transport_message small_message() {
  return transport_message{route{"echoer"}, route{address(1, "127.0.0.1:4000"), "app"}, text("hello")};
}

// ---- tcp_frame: [config] then operations (see tcp_frame.fuzz.cpp)

bytes frame_of(const transport_message& m) {
  bytes out;
  (void)tcp_frame::append_head(m, tcp_frame::default_max_size, out);
  out.insert(out.end(), m.payload.begin(), m.payload.end());
  return out;
}

// `stream` as reads of at most `piece` bytes (1..112).
bytes as_reads(std::uint8_t config, byte_view stream, std::size_t piece) {
  bytes out{config};
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    const auto n = std::min(piece, stream.size() - at);
    out.push_back(static_cast<std::uint8_t>(0x7f + n));
    out.insert(out.end(), stream.begin() + static_cast<std::ptrdiff_t>(at),
               stream.begin() + static_cast<std::ptrdiff_t>(at + n));
  }
  return out;
}

// An operation adding `count` (>= 1) copies of `b`, then ending the read.
void append_filler(bytes& ops, std::size_t count, std::uint8_t b) {
  const auto k = (count - 1) / 16;
  ops.push_back(static_cast<std::uint8_t>(0xf0 + (count - 1) % 16));
  ops.push_back(static_cast<std::uint8_t>(k >> 8));
  ops.push_back(static_cast<std::uint8_t>(k));
  ops.push_back(b);
}

void tcp_frame_corpus() {
  const auto a = small_message();
  const transport_message b{route{"relay", "forward_to_bob"}, route{}, bytes(40, 0xab)};
  const bytes stream = cat({bytes{tcp_frame::protocol_version}, frame_of(a), frame_of(b)});
  write("tcp_frame", "two-frames-one-read", as_reads(7, stream, 112));
  write("tcp_frame", "two-frames-byte-by-byte", as_reads(7, stream, 1));
  write("tcp_frame", "two-frames-in-3-byte-reads", as_reads(3, stream, 3));

  // A frame too big to stage: its head, then its payload as filler (the payload read apart).
  const transport_message large{route{"echoer"}, route{"app"}, bytes(70000, 'x')};
  bytes head{tcp_frame::protocol_version};
  (void)tcp_frame::append_head(large, tcp_frame::default_max_size, head);
  bytes ops = as_reads(7, head, 112);
  append_filler(ops, large.payload.size(), 'x');
  const bytes after = frame_of(a);
  const bytes rest = as_reads(7, after, 112);
  ops.insert(ops.end(), rest.begin() + 1, rest.end());
  write("tcp_frame", "large-frame-then-small", ops);
  // A large frame that is not a transport message (read whole, then refused by decode).
  bytes junk = as_reads(6, bytes{1, 0x00, 0x01, 0x11, 0x70}, 112);
  append_filler(junk, 0x11170, 0x90);
  write("tcp_frame", "large-frame-not-a-message", junk);

  write("tcp_frame", "bad-version", as_reads(7, bytes{2, 0, 0, 0, 0}, 112));
  write("tcp_frame", "frame-over-max", as_reads(2, bytes{1, 0, 0, 1, 0, 1, 2, 3}, 112));
  write("tcp_frame", "empty-frames-max-0", as_reads(0, bytes{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 112));
  write("tcp_frame", "truncated-prefix", as_reads(7, bytes{1, 0, 0}, 112));
}

// ---- transport_message: [limits] then the wire form

void transport_message_corpus() {
  const auto with = [](std::uint8_t limits, const transport_message& m) { return cat({bytes{limits}, encode(m)}); };
  write("transport_message", "small", with(0, small_message()));
  write("transport_message", "empty-routes", with(0, transport_message{route{}, route{}, bytes{}}));
  std::vector<address> hops;
  for (int i = 0; i < 32; ++i) hops.emplace_back(static_cast<std::uint8_t>(i), "hop" + std::to_string(i));
  write("transport_message", "32-hops", with(0, transport_message{route(hops), route{"back"}, bytes(300, 7)}));
  write("transport_message", "long-address",
        with(0, transport_message{route{std::string(255, 'a')}, route{"b"}, bytes(2000, 1)}));
  write("transport_message", "small-limits", with(0x25, small_message()));
  bytes v2 = with(0, small_message());
  v2[2] = 2;  // the version field: version 2 has a kind field, so these four fields are malformed
  write("transport_message", "version-2", v2);
  bytes v3 = with(0, small_message());
  v3[2] = 3;
  write("transport_message", "version-3", v3);
  // A delivery-error notice (version 2, kind 1) as a hub sends it back, and variations.
  auto notice = small_message();
  notice.onward_route = route{"reply.0123456789abcdef"};
  notice.return_route = route{};
  notice.kind = message_kind::delivery_error;
  notice.payload = encode_delivery_error({errc::unknown_address, "no worker at 'nosuchworker'"});
  write("transport_message", "delivery-error", with(0, notice));
  notice.payload = encode_delivery_error({errc::access_denied, "'private' refused the message (access control)"});
  write("transport_message", "delivery-error-denied", with(0, notice));
  notice.payload = encode_delivery_error({errc::too_large, std::string(max_delivery_error_reason, 'r')});
  write("transport_message", "delivery-error-longest-reason", with(0, notice));
  bytes unknown_kind = with(0, notice);
  unknown_kind[3] = 2;  // the kind field
  write("transport_message", "unknown-kind", unknown_kind);
  bytes kind_0 = with(0, notice);
  kind_0[3] = 0;  // version 2, an ordinary message
  write("transport_message", "version-2-kind-0", kind_0);
  write("transport_message", "delivery-error-payload-alone",
        cat({bytes{0}, encode_delivery_error({errc::unknown_address, "no worker at 'x'"})}));
  bytes cut = with(0, small_message());
  cut.resize(cut.size() - 2);
  write("transport_message", "truncated", cut);
  bytes trailing = with(0, small_message());
  trailing.push_back(0xc0);
  write("transport_message", "trailing-byte", trailing);
  // bin32 payload header and uint16 hop type: valid msgpack the encoder never writes.
  write("transport_message", "wide-forms",
        bytes{0, 0x94, 0x01, 0x91, 0x92, 0xcd, 0x00, 0x01, 0xa1, 'a', 0x90, 0xc6, 0, 0, 0, 2, 'h', 'i'});
}

// ---- channel_frame: the frame's bytes

void channel_frame_corpus() {
  for (int i = 0; i < 3; ++i)
    write("channel_frame", "handshake-" + std::to_string(i + 1), nsc::frame::handshake(i, bytes(48, 0x42)));
  write("channel_frame", "abort", nsc::frame::abort("trust policy refused identity I00"));
  write("channel_frame", "timeout", nsc::frame::timeout());
  bytes encrypted;
  nsc::frame::encrypted_header(0x0102030405060708, encrypted);
  encrypted.insert(encrypted.end(), 33, 0xee);
  write("channel_frame", "encrypted", encrypted);
  write("channel_frame", "encrypted-short", bytes{1, 4, 0, 0, 0, 0, 0, 0, 0});
  write("channel_frame", "unknown-kind", bytes{1, 7, 1, 2});
  write("channel_frame", "version-2", bytes{2, 1, 1, 2});
}

// ---- noise_handshake: [mode] then data (see noise_handshake.fuzz.cpp)

void noise_handshake_corpus() {
  using role = nsc::noise_xx_handshake::role;
  for (int suite = 0; suite < 2; ++suite) {
    const auto cipher = suite == 0 ? nsc::cipher_suite::aes256_gcm : nsc::cipher_suite::chacha20_poly1305;
    auto initiator = nodus::fuzz::start(role::initiator, cipher);
    auto responder = nodus::fuzz::start(role::responder, cipher);
    for (int i = 0; i < 3; ++i) {
      auto& writer = i % 2 == 0 ? initiator : responder;
      auto& reader = i % 2 == 0 ? responder : initiator;
      const bytes message = writer.write_message(nodus::fuzz::honest_payloads[i]).value();
      (void)reader.read_message(message).value();
      const auto mode = static_cast<std::uint8_t>(suite | (i << 1));
      const std::string name = (suite == 0 ? "aesgcm-message-" : "chachapoly-message-") + std::to_string(i + 1);
      write("noise_handshake", name, cat({bytes{mode}, message}));
      if (i == 1) write("noise_handshake", name + "-wrong-turn-first", cat({bytes{std::uint8_t(mode | 16)}, message}));
      write("noise_handshake", name + "-payload",
            cat({bytes{static_cast<std::uint8_t>(mode | 8)}, text("a payload of the fuzzer's choice")}));
    }
  }
  write("noise_handshake", "short-message-1", bytes{0, 1, 2, 3});
}

// ---- identities: histories, attestations, handshake payloads

void identity_corpus() {
  const nodus::fuzz::fixed_identity one(1), two(2), three(3);
  write("identity_history", "one-change", one.history.encode());
  write("identity_history", "two-changes", two.history.encode());
  write("identity_history", "three-changes", three.history.encode());
  write("identity_history", "no-changes", bytes{0x92, 0x01, 0x90});
  write("identity_history", "version-2", bytes{0x92, 0x02, 0x90});
  bytes broken = two.history.encode();
  broken[broken.size() - 1] ^= 1;  // the last signature
  write("identity_history", "bad-signature", broken);

  constexpr std::int64_t year_2100 = 4'102'444'800;
  write("attestation", "valid", two.attest(year_2100).encode());
  write("attestation", "expired", two.attest(1'000'000'000).encode());
  write("attestation", "by-another-identity", one.attest(year_2100).encode());
  write("attestation", "empty-fields", bytes{0x95, 0x01, 0x01, 0xc4, 0x00, 0x00, 0xc4, 0x00});

  const auto payload = [](const nodus::fuzz::fixed_identity& id, std::int64_t expires) {
    return nodus::fuzz::handshake_payload(id.history.encode(), id.attest(expires).encode());
  };
  write("handshake_payload", "one-change", payload(one, year_2100));
  write("handshake_payload", "three-changes", payload(three, year_2100));
  write("handshake_payload", "expired", payload(two, 1'000'000'000));
  write("handshake_payload", "empty-parts", nodus::fuzz::handshake_payload({}, {}));
  write("handshake_payload", "version-2", bytes{0x93, 0x02, 0xc4, 0x00, 0xc4, 0x00});
}

// ---- stream and relay protocol messages

template <class T>
void write_message(const std::string& target, const std::string& name, const T& value) {
  write(target, name, message_codec<T>::encode(value));
}

void protocol_corpus() {
  using namespace nodus::stream;
  write_message("stream_protocol", "create",
                stream_request{.kind = stream_request::kind_t::create, .request_id = 1, .stream = "alice-to-bob"});
  write_message(
      "stream_protocol", "push",
      stream_request{
          .kind = stream_request::kind_t::push, .request_id = 2, .stream = "s", .data = encode(small_message())});
  write_message("stream_protocol", "pull",
                stream_request{.kind = stream_request::kind_t::pull,
                               .request_id = 3,
                               .stream = "s",
                               .index = 5,
                               .limit = 10,
                               .wait_ms = 500});
  write_message("stream_protocol", "pull-reply",
                stream_reply{.kind = stream_request::kind_t::pull,
                             .request_id = 3,
                             .stream = "s",
                             .messages = {stream_message{5, text("five")}, stream_message{6, text("six")}}});
  write_message("stream_protocol", "error-reply",
                stream_reply{.request_id = 4, .stream = "s", .error = {stream_errc::unknown_stream, "no such stream"}});
  write_message(
      "stream_protocol", "index-save",
      index_request{
          .kind = index_request::kind_t::save, .request_id = 5, .stream = "s", .client_id = "bob", .index = 7});
  write_message("stream_protocol", "index-reply",
                index_reply{.request_id = 6, .stream = "s", .client_id = "bob", .index = 7});
  write("stream_protocol", "short-array", bytes{0x92, 0x01, 0x01});

  using namespace nodus::relay;
  write_message("relay_protocol", "request", relay_request{.name = "bob"});
  write_message("relay_protocol", "request-random-name", relay_request{});
  write_message("relay_protocol", "reply", relay_reply{.relay = "forward_to_bob"});
  write_message("relay_protocol", "reply-refused", relay_reply{.error = "name taken"});
  write("relay_protocol", "wrong-types", bytes{0x92, 0xa1, 'x', 0x01});
}

// ---- json: JSON text (see json.fuzz.cpp)

void json_corpus() {
  namespace json = nodus::json;
  json::value request;
  request["method"] = "create_relay";
  request["id"] = 42;
  request["params"]["name"] = "bob";
  request["params"]["routes"].push_back("1#127.0.0.1:4000");
  request["params"]["routes"].push_back(json::array{"echoer", nullptr, true, false});
  request["params"]["timeout_s"] = 2.5;
  write("json", "request", text(json::dump(request)));
  write("json", "request-pretty", text(json::dump(request, true)));
  write("json", "strings",
        text(R"(["", "\"\\\/\b\f\n\r\t", "\u0000\u001f\u00e9\u20AC", "\ud83d\ude00", )"
             "\"\xc3\xa9\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"]"));
  write("json", "numbers",
        text("[0, -0, 1, -1, 9223372036854775807, -9223372036854775808, 9223372036854775808, 0.5, -2.5e-07, "
             "1e+300, 1E-400, 5e-324, 1.7976931348623157e308, 123456789012345683968.0]"));
  write("json", "nested-64", text(std::string(64, '[') + std::string(64, ']')));
  write("json", "nested-65", text(std::string(65, '[') + std::string(65, ']')));
  std::string objects;
  for (int i = 0; i < 20; ++i) objects += R"({"k":[)";
  for (int i = 0; i < 20; ++i) objects += "]}";
  write("json", "nested-objects", text(objects));
  std::string members = "{";
  for (int i = 0; i < 40; ++i) members += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  write("json", "members-41", text(members + "\"last\":0}"));
  write("json", "duplicate-key-40", text(members + "\"k7\":0}"));
  write("json", "duplicate-key", text(R"({"a":1,"b":{"a":2},"a":3})"));
  write("json", "scalar-string", text(R"("just a string")"));
  write("json", "whitespace", text(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n"));
  write("json", "invalid-utf8", text("[\"\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82\"]"));
  write("json", "lone-surrogate", text(R"(["\ud800", "\udc00"])"));
  write("json", "trailing-comma", text("[1,2,]"));
  write("json", "leading-zero", text("[01]"));
  write("json", "out-of-range", text("[1e400]"));
  write("json", "truncated", text(R"({"a":[1,2,{"b":"c)"));
}

// ---- portal protocol messages

void portal_corpus() {
  namespace portal = nodus::portal;
  using portal::message;
  write("portal_protocol", "open", portal::encode(message::open(256 * 1024)));
  write("portal_protocol", "opened", portal::encode(message::opened(65536)));
  const bytes chunk = text("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
  write("portal_protocol", "data",
        portal::encode(message{.kind = portal::message_kind::data, .value = 4096, .data = chunk}));
  write("portal_protocol", "data-empty", portal::encode(message{.kind = portal::message_kind::data, .value = 7}));
  write("portal_protocol", "ack", portal::encode(message::ack(1u << 20)));
  write("portal_protocol", "eof", portal::encode(message::eof(123456789)));
  write("portal_protocol", "ping", portal::encode(message::ping()));
  write("portal_protocol", "close",
        portal::encode(message::close(portal::close_code::connect_failed,
                                      "the outlet cannot connect to its target: Connection refused")));
  write("portal_protocol", "version-2", bytes{0x93, 0x02, 0x01, 0x10});
  write("portal_protocol", "window-0", bytes{0x93, 0x01, 0x01, 0x00});
  write("portal_protocol", "unknown-kind", bytes{0x92, 0x01, 0x63});
  // A data message whose chunk claims more bytes than follow.
  write("portal_protocol", "data-short", bytes{0x94, 0x01, 0x03, 0x00, 0xc6, 0x00, 0x00, 0x10, 0x00, 0xab});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_corpus DIR\n");
    return 2;
  }
  root = argv[1];
  tcp_frame_corpus();
  transport_message_corpus();
  channel_frame_corpus();
  noise_handshake_corpus();
  identity_corpus();
  protocol_corpus();
  json_corpus();
  portal_corpus();
  return 0;
}
