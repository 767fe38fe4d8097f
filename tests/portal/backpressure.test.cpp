// Back-pressure without unbounded buffering: a reader that stops makes the portal stop reading
// the other end's socket once the window is full. What the portal holds is its window and no
// more (its own counts say so); what the writer got in beyond that is the sockets' buffers.

#include <doctest/doctest.h>

#include "portal_fixture.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

constexpr std::size_t window = portal::default_window_bytes;
constexpr int small_buffer = 64 * 1024;

// What the kernel may hold for one direction through the portal: the writer's send buffer and
// the inlet's receive buffer on one connection, the outlet's send buffer and the reader's receive
// buffer on the other (the writer's and the reader's are set small; the kernel doubles them).
std::size_t socket_bound() { return max_socket_buffers() + 4 * small_buffer; }

void set_buffer(int fd, int option) { ::setsockopt(fd, SOL_SOCKET, option, &small_buffer, sizeof small_buffer); }

// Sends what the socket takes now, without waiting.
void send_what_fits(client& c) {
  for (;;) {
    const auto n = ::send(c.fd, c.to_send.data() + c.sent, std::min<std::size_t>(c.to_send.size() - c.sent, 65536),
                          MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) return;
    c.sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

TEST_CASE("a target that does not read: the inlet stops taking the client's bytes once the window is full") {
  gate reading;
  received_stream at_target;
  portal_pair p([&](target_server&, int fd) {
    set_buffer(fd, SO_RCVBUF);
    reading.wait();
    read_to_end(fd, at_target);
    ::shutdown(fd, SHUT_WR);
  });
  p.target.on_stop = [&] { reading.open(); };
  const auto bound = window + socket_bound();
  auto c = new_client(p.inlet_address(), pattern(bound + (8 << 20), 21));
  set_buffer(c.fd, SO_SNDBUF);
  c.keep_open = true;

  // The client writes while the portal takes its bytes, until the window is full at both ends:
  // everything the inlet sent unacknowledged, all of it held by the outlet for the target.
  std::uint64_t most_unacknowledged = 0, most_buffered = 0;
  const auto full = [&] {
    const auto in = p.inlet->stats(), out = p.outlet().stats();
    most_unacknowledged = std::max(most_unacknowledged, in.bytes_unacknowledged);
    most_buffered = std::max(most_buffered, out.bytes_buffered);
    return in.bytes_unacknowledged == window && out.bytes_buffered == window;
  };
  REQUIRE(run_until(c, full, 60s));
  send_what_fits(c);  // and what the sockets' buffers still take
  CHECK(c.sent < c.to_send.size());
  CHECK(c.sent <= bound);
  CHECK(most_unacknowledged <= window);
  CHECK(most_buffered <= window);
  CHECK(p.outlet().stats().bytes_unacknowledged == 0);  // nothing the other way
  CHECK(p.inlet->stats().bytes_buffered == 0);
  MESSAGE("the client got " << c.sent << " bytes in; the portal holds " << window << ", the rest is in sockets");

  // The target reads again: everything written arrives, in order, and the rest follows.
  reading.open();
  c.to_send.resize(c.sent + (1 << 20));
  c.keep_open = false;
  REQUIRE(run_client(c, 120s));
  CHECK(c.error == 0);
  REQUIRE(eventually([&] { return at_target.has_ended(); }, 10s));
  CHECK(at_target.copy() == c.to_send);
  CHECK(eventually([&] { return p.inlet->stats().connections_open == 0; }));
  CHECK(p.inlet->stats().connections_failed == 0);
}

TEST_CASE("a client that does not read: the outlet stops taking the target's bytes once the window is full") {
  std::atomic<std::size_t> target_sent{0};
  std::atomic<bool> enough{false};
  const auto stream = pattern(window + socket_bound() + (8 << 20), 22);
  portal_pair p([&](target_server&, int fd) {
    set_buffer(fd, SO_SNDBUF);
    while (!enough && target_sent < stream.size()) {  // blocking writes: each returns once the kernel took it
      const auto n = ::send(fd, stream.data() + target_sent, std::min<std::size_t>(stream.size() - target_sent, 16384),
                            MSG_NOSIGNAL);
      if (n <= 0) return;
      target_sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
  });
  auto c = new_client(p.inlet_address(), {});
  set_buffer(c.fd, SO_RCVBUF);
  c.keep_open = true;

  std::uint64_t most_unacknowledged = 0, most_buffered = 0;
  REQUIRE(eventually(
      [&] {
        const auto in = p.inlet->stats(), out = p.outlet().stats();
        most_unacknowledged = std::max(most_unacknowledged, out.bytes_unacknowledged);
        most_buffered = std::max(most_buffered, in.bytes_buffered);
        return out.bytes_unacknowledged == window && in.bytes_buffered == window;
      },
      60s));
  const auto got_in = target_sent.load();
  CHECK(got_in < stream.size());
  CHECK(got_in <= window + socket_bound());
  CHECK(most_unacknowledged <= window);
  CHECK(most_buffered <= window);
  MESSAGE("the target got " << got_in << " bytes in; the portal holds " << window << ", the rest is in sockets");

  // The client reads: what the target wrote arrives intact, then the end of the stream.
  enough = true;
  REQUIRE(run_client(c, 120s));
  CHECK(c.error == 0);
  CHECK(c.received.size() == target_sent.load());
  CHECK(c.received == bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(c.received.size())));
}
