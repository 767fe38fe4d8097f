// Stream filters (nodus/portal/stream_filter.hpp): each end's bytes pass through a filter of the
// connection's own on their way in and out. A filter may grow the stream past the other end's
// window, hold bytes back, answer the client itself, or end the connection with a reason.

#include <doctest/doctest.h>

#include "portal_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

// Doubles every byte on its way into the portal and halves the other end's doubled bytes on
// their way out (holding an odd byte back until its twin arrives): what the client and the
// target see is unchanged, while the portal carries twice the bytes in chunks cut anywhere.
class doubling_filter final : public portal::stream_filter {
public:
  task<result_or_failure<output>> from_socket(byte_view in) override {
    output out;
    out.to_peer.reserve(in.size() * 2);
    for (auto b : in) {
      out.to_peer.push_back(b);
      out.to_peer.push_back(b);
    }
    co_return out;
  }
  task<result_or_failure<bytes>> to_socket(byte_view in) override {
    bytes out;
    for (auto b : in) {
      if (held_) {
        if (*held_ != b) co_return fail(std::make_error_code(std::errc::bad_message), "the twins differ");
        out.push_back(b);
        held_.reset();
      } else {
        held_ = b;
      }
    }
    co_return out;
  }

private:
  std::optional<std::uint8_t> held_;
};

// Answers the line `PING\n` from the client itself, without the target hearing of it.
class answering_filter final : public portal::stream_filter {
public:
  task<result_or_failure<output>> from_socket(byte_view in) override {
    pending_.insert(pending_.end(), in.begin(), in.end());
    output out;
    const auto ping = as_bytes(std::string_view("PING\n"));
    while (pending_.size() >= ping.size()) {
      if (std::equal(ping.begin(), ping.end(), pending_.begin())) {
        const auto pong = as_bytes(std::string_view("PONG\n"));
        out.to_socket.insert(out.to_socket.end(), pong.begin(), pong.end());
      } else {
        out.to_peer.insert(out.to_peer.end(), pending_.begin(), pending_.begin() + ping.size());
      }
      pending_.erase(pending_.begin(), pending_.begin() + ping.size());
    }
    co_return out;
  }
  task<result_or_failure<bytes>> to_socket(byte_view in) override { co_return bytes(in.begin(), in.end()); }

private:
  bytes pending_;
};

// Refuses whatever the target says.
class refusing_filter final : public portal::stream_filter {
public:
  task<result_or_failure<output>> from_socket(byte_view) override {
    co_return fail(std::make_error_code(std::errc::bad_message), "the target said something this filter refuses");
  }
  task<result_or_failure<bytes>> to_socket(byte_view in) override { co_return bytes(in.begin(), in.end()); }
};

template <class Filter>
portal::stream_filter_factory make() {
  return [](const std::string&) { return std::make_unique<Filter>(); };
}

}  // namespace

TEST_CASE("filters at both ends that double and halve the stream: 3 MiB come back intact, every count settles") {
  portal::outlet_options oo{.filter = make<doubling_filter>()};
  portal::inlet_options io{.filter = make<doubling_filter>()};
  portal_pair p(echo_back, oo, io);
  auto c = new_client(p.inlet_address(), pattern(3 << 20, 7));
  REQUIRE(run_client(c, 120s));
  CHECK(c.error == 0);
  CHECK(c.received.size() == c.to_send.size());
  CHECK(c.received == c.to_send);
  REQUIRE(eventually([&] { return p.inlet->stats().connections_open == 0 && p.outlet().stats().connections_open == 0; },
                     10s));
  const auto in = p.inlet->stats(), out = p.outlet().stats();
  CHECK(in.connections_failed == 0);
  CHECK(in.bytes_in == 6u << 20);  // what went into the portal: doubled
  CHECK(in.bytes_unacknowledged == 0);
  CHECK(in.bytes_buffered == 0);
  CHECK(out.bytes_in == 6u << 20);
  CHECK(out.bytes_unacknowledged == 0);
  CHECK(out.bytes_buffered == 0);
}

TEST_CASE("a filter at the inlet answers the client itself; the target hears only the rest") {
  received_stream at_target;
  portal_pair p(
      [&](target_server&, int fd) {
        read_to_end(fd, at_target);
        ::shutdown(fd, SHUT_WR);  // then the client's stream ends too
      },
      {}, portal::inlet_options{.filter = make<answering_filter>()});
  const auto sent = as_bytes(std::string_view("PING\nHELLOPING\n"));
  auto c = new_client(p.inlet_address(), bytes(sent.begin(), sent.end()));
  REQUIRE(run_client(c, 30s));
  CHECK(c.error == 0);
  const auto pongs = as_bytes(std::string_view("PONG\nPONG\n"));
  CHECK(c.received == bytes(pongs.begin(), pongs.end()));
  REQUIRE(eventually([&] { return at_target.has_ended(); }, 10s));
  const auto hello = as_bytes(std::string_view("HELLO"));
  CHECK(at_target.copy() == bytes(hello.begin(), hello.end()));
}

TEST_CASE("a filter's refusal closes the connection, and both ends log its reason") {
  portal_pair p(echo_back, portal::outlet_options{.filter = make<refusing_filter>()});
  auto c = new_client(p.inlet_address(), pattern(1000, 3));
  REQUIRE(run_client(c, 30s));
  CHECK((c.error != 0 || c.eof));
  CHECK(c.received.empty());
  CHECK(p.bob->node.logs.eventually_contains("the target said something this filter refuses; closing the inlet's end"));
  CHECK(p.alice.node.logs.eventually_contains("closed by the outlet (protocol error): the target said something"));
  CHECK(eventually([&] { return p.inlet->stats().connections_open == 0 && p.outlet().stats().connections_open == 0; }));
}
