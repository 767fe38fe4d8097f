// What a TCP listener lets the network reach, and that nothing from the network makes a node
// dial out: real sockets on loopback.

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;

TEST_CASE("a worker not exposed to a listener cannot be reached through it; an exposed one can") {
  tcp_node server("127.0.0.1:0");  // exposes the echoer only
  REQUIRE(server.n.start_worker("private", services::echoer{}));
  tcp_node client;

  CHECK(echo(client.n, route{tcp(server.bound), "echoer"}).value().body() == "hello");
  auto refused = echo(client.n, route{tcp(server.bound), "private"}, "let me in", 1s);
  CHECK_FALSE(refused);
  CHECK(eventually([&] {
    return server.logs.contains("flow control: 'private' refused a message from tcp connection from 127.0.0.1:") &&
           server.logs.contains(", listener " + server.bound + "): it is not exposed to that origin");
  }));
  // Replies reach the client's own reply contexts without any exposure on its side.
  CHECK(echo(client.n, route{tcp(server.bound), "echoer"}, "again").value().body() == "again");
}

TEST_CASE("a listener's flow id exposes more workers later, on that listener only") {
  tcp_node server;
  REQUIRE(server.n.start_worker("late", services::echoer{}));
  const auto first = server.transport.listen("127.0.0.1:0", {.flow = "tcp-listener.test-first"}).value();
  const auto second = server.transport.listen("127.0.0.1:0").value();
  tcp_node client;
  CHECK_FALSE(echo(client.n, route{tcp(first), "late"}, "hello", 1s));
  server.n.create_context().expose("tcp-listener.test-first", "late");
  CHECK(echo(client.n, route{tcp(first), "late"}).value().body() == "hello");
  CHECK_FALSE(echo(client.n, route{tcp(second), "late"}, "hello", 1s));
}

TEST_CASE("a 1#host:port hop from the network makes no connection; an allowed one does") {
  // The internal service an attacker would like the hub to talk to: a plain listening socket.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor internal(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  internal.non_blocking(true);
  const auto target = "127.0.0.1:" + std::to_string(internal.local_endpoint().port());

  tcp_node hub("127.0.0.1:0");
  tcp_node attacker;
  auto sent = echo(attacker.n, route{tcp(hub.bound), tcp(target), "anything"}, "GET / HTTP/1.0", 1s);
  CHECK_FALSE(sent);
  REQUIRE(eventually([&] {
    return hub.logs.contains("tcp: a message from tcp connection from 127.0.0.1:") &&
           hub.logs.contains("may not open or use a connection to 1#" + target);
  }));
  // The message was dropped where it was refused, so no connection can come later.
  boost::system::error_code ec;
  boost::asio::ip::tcp::socket accepted(io);
  internal.accept(accepted, ec);
  CHECK(ec == boost::asio::error::would_block);
  CHECK(hub.transport.connections().size() == 1);  // the attacker's own

  // The hub's own messages still dial out, and so do the network's towards an allowed peer.
  tcp_node server("127.0.0.1:0");
  tcp_node relaying("127.0.0.1:0", tcp_options{.allow_outgoing = {server.bound}});
  CHECK(echo(attacker.n, route{tcp(relaying.bound), tcp(server.bound), "echoer"}).value().body() == "hello");
  CHECK(echo(hub.n, route{tcp(server.bound), "echoer"}).value().body() == "hello");
}
