// What a Kafka inlet does with requests it cannot pass on as they are: an ApiVersions request
// newer than it reads is answered as a broker answers one; bytes that are not a Kafka request
// close that client's connection, with a log line saying why, and the inlet serves the next.

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "eventually.hpp"
#include "kafka_portal_fixture.hpp"
#include "nodus/kafka/frame.hpp"
#include "nodus/kafka_portal/kafka_portal.hpp"
#include "nodus/transports/tcp.hpp"
#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;
using namespace std::chrono_literals;

namespace {

// A blocking client socket with a receive timeout (so a test never hangs on it).
struct raw_client {
  explicit raw_client(const std::string& host_port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_of(host_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~raw_client() { ::close(fd); }
  void send(const bytes& b) const { REQUIRE(::send(fd, b.data(), b.size(), MSG_NOSIGNAL) == ssize_t(b.size())); }
  // One frame (without its size), or nothing when the connection ends first.
  std::optional<bytes> receive_frame() const {
    auto take = [&](std::size_t n) -> std::optional<bytes> {
      bytes out(n);
      std::size_t got = 0;
      while (got < n) {
        const auto r = ::recv(fd, out.data() + got, n - got, 0);
        if (r <= 0) return std::nullopt;
        got += static_cast<std::size_t>(r);
      }
      return out;
    };
    auto size = take(4);
    if (!size) return std::nullopt;
    return take((std::size_t{(*size)[0]} << 24) | (std::size_t{(*size)[1]} << 16) | (std::size_t{(*size)[2]} << 8) |
                (*size)[3]);
  }
  int fd = -1;
};

// An ApiVersions request of `version` (header v2: it is flexible from v3), correlation id `id`.
bytes api_versions_request(std::int16_t version, std::int32_t id) {
  const bytes frame{0x00,
                    0x12,
                    static_cast<std::uint8_t>(version >> 8),
                    static_cast<std::uint8_t>(version),
                    static_cast<std::uint8_t>(id >> 24),
                    static_cast<std::uint8_t>(id >> 16),
                    static_cast<std::uint8_t>(id >> 8),
                    static_cast<std::uint8_t>(id),
                    0x00,
                    0x01,
                    't',   // client id "t"
                    0x00,  // header tags
                    0x02,
                    'n',
                    0x02,
                    '1',
                    0x00};  // ClientSoftwareName "n", ClientSoftwareVersion "1", tags
  return kafka::with_size_prefix(frame);
}

// Bob's outlet to a "broker" that is only a listening socket nobody answers on, and Alice's inlet.
struct lone_inlet {
  lone_inlet() : bob("127.0.0.1:0", {}, false, {"kafka"}) {
    const kafka_portal::outlet_options oo{.bootstrap_server = bob.bound};  // named: no braced temporary in co_await
    auto outlet = bob.n.block_on([&](context& ctx) { return make_kafka_outlet(ctx, oo); });
    REQUIRE_MESSAGE(outlet, outlet.error().message());
    kafka_portal::inlet_options io{.bind = "127.0.0.1:0", .to = route{tcp(bob.bound), "kafka"}};
    auto inlet = alice.n.block_on([&](context& ctx) { return make_kafka_inlet(ctx, io); });
    REQUIRE_MESSAGE(inlet, inlet.error().message());
    bootstrap = inlet.value().bound();
  }
  tcp_node bob;
  tcp_node alice{{}, {}, false};
  std::string bootstrap;
};

}  // namespace

TEST_CASE("an ApiVersions request newer than the portal reads is answered by the inlet, as a broker would") {
  lone_inlet k;
  raw_client c(k.bootstrap);
  c.send(api_versions_request(99, 7));
  auto frame = c.receive_frame();
  REQUIRE(frame);
  auto answer = kafka::decode_response(*frame, 18, 0);
  REQUIRE_MESSAGE(answer, answer.error().message());
  CHECK(answer.value().header.correlation_id == 7);
  const auto& body = std::get<kafka::api_versions_response>(answer.value().body);
  CHECK(body.error_code == 35);  // UNSUPPORTED_VERSION
  REQUIRE(body.api_keys.size() == 1);
  CHECK(body.api_keys[0].api_key == 18);
  CHECK(body.api_keys[0].max_version == kafka::supported_versions(18)->max);
  CHECK(k.alice.logs.eventually_contains(
      "ApiVersions v99 is newer than this portal reads; answered UNSUPPORTED_VERSION"));
}

TEST_CASE("bytes that are not a Kafka request close that connection with the reason; the inlet serves the next") {
  lone_inlet k;
  {
    raw_client c(k.bootstrap);
    c.send(bytes{0x00, 0x00, 0x00, 0x03, 0x00, 0x12, 0x00});  // a frame too short for a request header
    CHECK(!c.receive_frame());                                // closed, no answer
  }
  CHECK(k.alice.logs.eventually_contains("kafka inlet 'kafka-inlet': a request of 127.0.0.1:"));
  {
    raw_client c(k.bootstrap);
    c.send(bytes{0xff, 0xff, 0xff, 0xff});  // a size no Kafka frame has
    CHECK(!c.receive_frame());
  }
  CHECK(k.alice.logs.eventually_contains("a frame size of 4294967295 bytes, over Kafka's limit of 2^31-1"));
  raw_client c(k.bootstrap);
  c.send(api_versions_request(99, 8));
  auto frame = c.receive_frame();
  REQUIRE(frame);
  CHECK(kafka::decode_response(*frame, 18, 0).value().header.correlation_id == 8);
}
