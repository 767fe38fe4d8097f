// The TCP transport between nodes in one process, over real loopback sockets.

#include "nodus/transports/tcp.hpp"

#include <poll.h>

#include <doctest/doctest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

task<result<address>> connect_to(tcp_transport& t, std::string peer) { co_return co_await t.connect(std::move(peer)); }

// A plain socket, for sending what a Nodus node never would.
struct raw_client {
  explicit raw_client(const std::string& host_port) : socket(io) {
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_of(host_port)});
  }
  void send(const bytes& b) { boost::asio::write(socket, boost::asio::buffer(b)); }
  // True when the server closes the connection within `limit` (reads and drops what it sends).
  bool closed_by_server(std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    socket.non_blocking(true);
    std::array<char, 256> buf;
    while (std::chrono::steady_clock::now() < end) {
      boost::system::error_code ec;
      socket.read_some(boost::asio::buffer(buf), ec);
      if (ec == boost::asio::error::would_block) {  // nothing yet: wait on the socket itself
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        pollfd ready{socket.native_handle(), POLLIN, 0};
        (void)::poll(&ready, 1, static_cast<int>(std::max<std::int64_t>(1, left.count())));
      } else if (ec) {
        return true;
      }
    }
    return false;
  }
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket;
};

}  // namespace

TEST_CASE("listening on port 0 reports the bound port") {
  tcp_node server("127.0.0.1:0");
  CHECK(server.bound.starts_with("127.0.0.1:"));
  CHECK(port_of(server.bound) != 0);
  CHECK(server.logs.eventually_contains("listening on " + server.bound));
}

TEST_CASE("a tcp(...) hop in a route connects, and the reply comes back over the same socket") {
  tcp_node server("127.0.0.1:0");
  tcp_node client;
  auto reply = echo(client.n, route{tcp(server.bound), "echoer"});
  INFO("client log:\n", client.logs.text(), "server log:\n", server.logs.text());
  REQUIRE(reply);
  CHECK(reply.value().body() == "hello");
  // The reply came from the server's echoer through the client's connection worker.
  REQUIRE(reply.value().return_route().size() == 2);
  CHECK(reply.value().return_route()[0].value().starts_with("tcp.out."));
  CHECK(reply.value().return_route()[1] == address("echoer"));

  SUBCASE("later messages reuse the connection") {
    for (int i = 0; i < 5; ++i) REQUIRE(echo(client.n, route{tcp(server.bound), "echoer"}));
    REQUIRE(client.transport.connections().size() == 1);
    CHECK(client.transport.connections()[0].outgoing);
    CHECK(client.transport.connections()[0].peer == server.bound);
    CHECK(server.transport.connections().size() == 1);
  }
}

TEST_CASE("the transport counts what its connections carry") {
  tcp_node server("127.0.0.1:0");
  tcp_node client;
  for (int i = 0; i < 3; ++i) REQUIRE(echo(client.n, route{tcp(server.bound), "echoer"}));
  // Each counter moves on its own thread (a write completes after the bytes left): wait for each.
  CHECK(eventually([&] { return client.transport.stats().messages_out == 3; }));
  CHECK(eventually([&] { return client.transport.stats().messages_in == 3; }));
  CHECK(eventually([&] { return server.transport.stats().messages_in == 3; }));
  CHECK(eventually([&] { return server.transport.stats().messages_out == 3; }));
  const auto sent = client.transport.stats(), got = server.transport.stats();
  CHECK(sent.connections_dialled == 1);
  CHECK(sent.connections_accepted == 0);
  CHECK(got.connections_accepted == 1);
  // Every byte one side wrote, the other read: the version byte and three frames each way.
  CHECK(eventually([&] { return server.transport.stats().bytes_in == client.transport.stats().bytes_out; }));
  CHECK(eventually([&] { return client.transport.stats().bytes_in == server.transport.stats().bytes_out; }));
  CHECK(client.transport.stats().bytes_out > 3 * 5);
}

TEST_CASE("an explicit connect returns the connection's address, usable as a first hop") {
  tcp_node server("127.0.0.1:0");
  tcp_node client;
  auto connection = client.n.block_on([&](context&) { return connect_to(client.transport, server.bound); });
  REQUIRE(connection);
  CHECK(connection.value().value().starts_with("tcp.out."));
  CHECK(echo(client.n, route{connection.value(), "echoer"}).value().body() == "hello");
  CHECK(echo(client.n, route{tcp(server.bound), "echoer"}));
  CHECK(client.transport.connections().size() == 1);  // the route reused the explicit connection
}

TEST_CASE("messages cross any number of nodes that allow the next hop, and the reply retraces the route") {
  tcp_node bob("127.0.0.1:0");
  tcp_node hub("127.0.0.1:0", tcp_options{.allow_outgoing = {bob.bound}});
  tcp_node alice;
  auto reply = echo(alice.n, route{tcp(hub.bound), tcp(bob.bound), "echoer"});
  REQUIRE(reply);
  CHECK(reply.value().body() == "hello");
  CHECK(reply.value().return_route().size() == 3);  // alice's connection, the hub's, bob's echoer
  CHECK(hub.transport.connections().size() == 2);   // one accepted from alice, one dialled to bob
}

TEST_CASE("a message over the frame limit is refused to its sender, never truncated") {
  tcp_node server("127.0.0.1:0");
  tcp_node client({}, tcp_options{.max_frame_size = 1024});
  CHECK(echo(client.n, route{tcp(server.bound), "echoer"}, std::string(100, 'a')));
  auto refused = echo(client.n, route{tcp(server.bound), "echoer"}, std::string(2000, 'a'), 2s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::too_large);
  CHECK(client.logs.eventually_contains("over the TCP frame limit of 1024 bytes"));
  CHECK(echo(client.n, route{tcp(server.bound), "echoer"}, std::string(100, 'b')));
}

TEST_CASE("bad input closes that connection only, with a log line naming the peer and the reason") {
  tcp_node server("127.0.0.1:0", tcp_options{.max_frame_size = 4096, .frame_deadline = 300ms});
  tcp_node client;
  REQUIRE(echo(client.n, route{tcp(server.bound), "echoer"}));

  raw_client wrong_version(server.bound);
  wrong_version.send(bytes{7, 0, 0, 0, 1, 0});
  raw_client too_long(server.bound);
  too_long.send(bytes{tcp_frame::protocol_version, 0, 1, 0, 0});  // 65 536 > 4 096
  raw_client garbage(server.bound);
  garbage.send(bytes{tcp_frame::protocol_version, 0, 0, 0, 3, 0xc1, 0xc1, 0xc1});  // 0xc1: never valid msgpack
  raw_client stalls(server.bound);
  stalls.send(bytes{tcp_frame::protocol_version, 0, 0, 0, 50, 1, 2});  // 2 bytes of 50, then nothing

  CHECK(wrong_version.closed_by_server());
  CHECK(too_long.closed_by_server());
  CHECK(garbage.closed_by_server());
  CHECK(stalls.closed_by_server());
  CHECK(server.logs.eventually_contains("opened with protocol version 7"));
  CHECK(server.logs.eventually_contains("a frame is longer than the 4096-byte limit"));
  CHECK(server.logs.eventually_contains("a frame does not decode"));
  CHECK(server.logs.eventually_contains("sent part of a frame and then nothing for 300 ms"));
  CHECK(server.logs.eventually_contains("closing the connection with 127.0.0.1:"));
  // The node and its good connection never noticed.
  CHECK(echo(client.n, route{tcp(server.bound), "echoer"}).value().body() == "hello");
  CHECK(eventually([&] { return server.transport.connections().size() == 1; }));
}

TEST_CASE("a lost connection is dialled again by the next send") {
  tcp_node client({}, tcp_options{.reconnect_backoff = 50ms});
  std::string bound;
  {
    tcp_node server(restartable_address());
    bound = server.bound;
    REQUIRE(echo(client.n, route{tcp(bound), "echoer"}));
  }  // the server node stops: the connection drops
  CHECK(eventually([&] { return client.transport.connections().empty(); }));
  CHECK_FALSE(echo(client.n, route{tcp(bound), "echoer"}, "nobody", 300ms));
  CHECK(client.logs.eventually_contains("cannot connect to " + bound));

  tcp_node restarted(bound);  // same port again
  CHECK(eventually([&] { return echo(client.n, route{tcp(bound), "echoer"}, "again", 500ms).has_value(); }));
}

TEST_CASE("listening errors are reported, not thrown") {
  tcp_node server("127.0.0.1:0");
  auto in_use = server.transport.listen(server.bound);
  REQUIRE_FALSE(in_use);
  CHECK(in_use.error() == std::errc::address_in_use);
  CHECK(server.transport.listen("no-port-here").error() == errc::invalid_address);
  CHECK(server.transport.listen("127.0.0.1:99999").error() == errc::invalid_address);
}

namespace {

// Records the numbers it receives, slowly enough that senders must wait for it.
class slow_recorder final : public worker<std::uint64_t> {
public:
  explicit slow_recorder(std::shared_ptr<std::vector<std::uint64_t>> seen) : seen_(std::move(seen)) {}
  task<result<>> handle_message(context& ctx, routed<std::uint64_t> message) override {
    if (message.body() % 100 == 0) co_await ctx.sleep(2ms);
    std::lock_guard lock(mutex_);
    seen_->push_back(message.body());
    co_return ok();
  }
  static inline std::mutex mutex_;

private:
  std::shared_ptr<std::vector<std::uint64_t>> seen_;
};

task<result<>> send_numbers(context& ctx, route to, std::uint64_t count) {
  for (std::uint64_t i = 0; i < count; ++i)
    if (auto sent = co_await ctx.send(to, i); !sent) co_return sent.error();
  co_return ok();
}

}  // namespace

TEST_CASE("a slow receiver makes the sender wait; every message arrives, in order") {
  tcp_node server("127.0.0.1:0", {}, true, {"echoer", "recorder"});
  auto seen = std::make_shared<std::vector<std::uint64_t>>();
  REQUIRE(server.n.start_worker("recorder", slow_recorder(seen), worker_options{.mailbox_capacity = 4}));
  tcp_node client({}, tcp_options{.write_queue_capacity = 4, .max_unsent_bytes = 256});
  constexpr std::uint64_t count = 5000;
  REQUIRE(client.n.block_on([&](context& ctx) {
    return send_numbers(ctx, route{tcp(server.bound), "recorder"}, count);
  }));
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(slow_recorder::mutex_);
        return seen->size() == count;
      },
      30s));
  std::lock_guard lock(slow_recorder::mutex_);
  for (std::uint64_t i = 0; i < count; ++i) REQUIRE((*seen)[i] == i);
}
