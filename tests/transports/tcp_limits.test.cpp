// What one listener lets its peers hold: connections open at once, bytes of frames in progress,
// and the time a frame may take to arrive. Over real loopback sockets.

#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <vector>

#include <doctest/doctest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "nodus/transports/tcp.hpp"
#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

// A plain socket, for sending what a Nodus node never would.
struct raw_client {
  explicit raw_client(const std::string& host_port) : socket(io) {
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_of(host_port)});
    socket.non_blocking(true);
  }
  // Sends all of `b`; an error (the server has closed) is ignored: the reads below tell.
  void send(const bytes& b) {
    socket.non_blocking(false);
    boost::system::error_code ignored;
    boost::asio::write(socket, boost::asio::buffer(b), ignored);
    socket.non_blocking(true);
  }
  // The next byte from the server, within `limit`: a value, or nothing with `closed` set when
  // the server closed the connection, or nothing when neither happened in time.
  std::optional<std::uint8_t> next_byte(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    do {
      std::uint8_t byte = 0;
      boost::system::error_code ec;
      socket.read_some(boost::asio::buffer(&byte, 1), ec);
      if (!ec) return byte;
      if (ec != boost::asio::error::would_block) {
        closed = true;
        eof = ec == boost::asio::error::eof;
        return std::nullopt;
      }
      // Wait for the socket itself (readable, or closed) for what is left of the limit.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      pollfd ready{socket.native_handle(), POLLIN, 0};
      (void)::poll(&ready, 1, static_cast<int>(std::max<std::int64_t>(1, left.count())));
    } while (std::chrono::steady_clock::now() < end);
    return std::nullopt;
  }
  // True when the server serves this connection: it opens with its version byte.
  bool served(std::chrono::milliseconds limit = 5s) { return next_byte(limit) == tcp_frame::protocol_version; }
  // True when the server closes the connection within `limit` (whatever it sends is dropped).
  bool closed_by_server(std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    do {
      (void)next_byte(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()));
    } while (!closed && std::chrono::steady_clock::now() < end);
    return closed;
  }
  std::uint16_t local_port() const { return socket.local_endpoint().port(); }

  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket;
  bool closed = false;
  bool eof = false;  // closed with a FIN (not a reset)
};

// The refusal lines in `log`: how many, and the connections they count together.
struct refusals {
  std::size_t lines = 0;
  std::size_t connections = 0;
};

refusals refusals_in(const std::string& log) {
  static const std::regex line(R"(refused (\d+) connections? on )");
  refusals found;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
    ++found.lines;
    found.connections += std::stoul((*it)[1].str());
  }
  return found;
}

}  // namespace

TEST_CASE(
    "over its connection cap a listener closes the new connection at once, says why, and accepts again once one "
    "closes") {
  tcp_node server("127.0.0.1:0", tcp_options{.max_connections = 3});
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<raw_client>(server.bound));
    REQUIRE(clients.back()->served());
  }
  // Served means counted (the slot is taken before the worker starts); listed comes a bit later.
  REQUIRE(eventually([&] { return server.transport.connections().size() == 3; }));

  raw_client fourth(server.bound);
  CHECK_FALSE(fourth.served());
  CHECK(fourth.closed);
  CHECK(fourth.eof);  // closed before the server sent or read anything
  CHECK(eventually([&] {
    return server.logs.contains(
        fmt::format("refused 1 connection on {} (the last from 127.0.0.1:{}): the limit of 3 open connections "
                    "(max_connections) is reached",
                    server.bound, fourth.local_port()));
  }));

  clients.erase(clients.begin());  // closed by the client
  // The slot is given back before the connection's worker stops, and so before it is unlisted.
  REQUIRE(eventually([&] { return server.transport.connections().size() == 2; }));
  raw_client fifth(server.bound);
  CHECK(fifth.served());
  for (auto& c : clients) CHECK_FALSE(c->closed_by_server(0ms));  // the others were never touched
}

TEST_CASE("a flood over the connection cap is logged at most once a second, with counts that add up") {
  tcp_node server("127.0.0.1:0", tcp_options{.max_connections = 1});
  raw_client holder(server.bound);
  REQUIRE(holder.served());
  constexpr std::size_t flood = 40;
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < flood; ++i) {
    raw_client refused(server.bound);
    REQUIRE(refused.closed_by_server());
  }
  // The last count is written at most a second after the last refusal.
  REQUIRE(eventually([&] { return refusals_in(server.logs.text()).connections == flood; }));
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  const auto found = refusals_in(server.logs.text());
  INFO(found.lines, " lines in ", elapsed.count(), " s");
  CHECK(found.lines >= 1);
  CHECK(static_cast<double>(found.lines - 1) <= elapsed.count());  // lines are a second apart or more
  CHECK_FALSE(holder.closed_by_server(0ms));
}

TEST_CASE("a partial frame sent slowly, every byte well before the deadline, is cut off at the frame deadline") {
  tcp_node server("127.0.0.1:0", tcp_options{.frame_deadline = 300ms});
  raw_client slow(server.bound);
  REQUIRE(slow.served());
  const auto started = std::chrono::steady_clock::now();      // before the frame starts
  slow.send(bytes{tcp_frame::protocol_version, 0, 0, 4, 0});  // a 1024-byte body, then a byte every 50 ms
  for (int i = 0; i < 200 && !slow.closed; ++i) {             // 10 s at most; the deadline is 300 ms
    slow.send(bytes{0x94});
    (void)slow.closed_by_server(50ms);
  }
  REQUIRE(slow.closed);
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);
  CHECK(eventually(
      [&] { return server.logs.contains("it did not send the whole of a frame within the 300 ms frame deadline"); }));
}

TEST_CASE("a partial frame that would take the listener over max_buffered_bytes closes its connection only") {
  tcp_node server("127.0.0.1:0", tcp_options{.max_buffered_bytes = 256 * 1024});
  tcp_node client;
  const std::string big(200 * 1024, 'a');  // over the staging area, under the cap
  REQUIRE(echo(client.n, route{tcp(server.bound), "echoer"}, big).value().body() == big);

  // The head of a frame with a 1 MiB payload, and 600 KiB of it: its buffer would pass 256 KiB.
  const transport_message greedy_message{route{"echoer"}, route{"greedy"}, bytes(1024 * 1024, 'g')};
  bytes greedy_bytes{tcp_frame::protocol_version};
  REQUIRE(tcp_frame::append_head(greedy_message, tcp_frame::default_max_size, greedy_bytes));
  greedy_bytes.resize(greedy_bytes.size() + 600 * 1024, 'g');
  raw_client greedy(server.bound);
  REQUIRE(greedy.served());
  greedy.send(greedy_bytes);
  CHECK(greedy.closed_by_server());
  CHECK(eventually([&] {
    return server.logs.contains(
        "its partial frame would take the listener over its 262144-byte limit (max_buffered_bytes)");
  }));
  // What the closed connection held is given back before its worker stops (and is unlisted):
  // a large frame passes again.
  REQUIRE(eventually([&] { return server.transport.connections().size() == 1; }));
  CHECK(echo(client.n, route{tcp(server.bound), "echoer"}, big).value().body() == big);
}
