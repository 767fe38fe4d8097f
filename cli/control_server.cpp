#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "control_server.hpp"

#include <sys/stat.h>

#include <openssl/crypto.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "nodus/node/extension.hpp"

namespace nodus::cli::control {
namespace asio = boost::asio;
namespace http = boost::beast::http;

reply error_reply(unsigned status, std::string message) {
  json::value body;
  body["error"] = std::move(message);
  return {status, std::move(body)};
}

namespace {

// An idle or slow client is cut off after this; a call's own work (a message send waiting for
// its reply) is not bounded by it, only the reading of the request.
constexpr auto read_deadline = std::chrono::seconds(30);

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

http_response to_response(const reply& r, unsigned version, bool keep_alive) {
  http_response response{static_cast<http::status>(r.status), version};
  response.set(http::field::content_type, r.content_type);
  response.set(http::field::server, "nodus");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(keep_alive);
  response.body() = r.text ? *r.text : json::dump(r.body) + "\n";
  response.prepare_payload();
  return response;
}

bool token_matches(const http_request& req, const std::string& token) {
  const auto header = req[http::field::authorization];
  const std::string expected = "Bearer " + token;
  return header.size() == expected.size() && CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

task<reply> dispatch(const handler* h, const http_request& req) {
  request call;
  call.method = std::string(req.method_string());
  const auto target = std::string(req.target());
  call.path = target.substr(0, target.find('?'));
  if (!req.body().empty()) {
    auto parsed = json::parse(req.body());
    if (!parsed) co_return error_reply(400, "the request body is not JSON: " + parsed.error().message());
    call.body = std::move(parsed).value();
  }
  try {
    co_return co_await (*h)(std::move(call));
  } catch (const std::exception& e) {
    co_return error_reply(500, e.what());
  }
}

// One connection: requests in order until the client closes, a read times out, or a request
// is malformed (answered 400, then closed).
template <class Socket>
task<void> session(Socket socket, std::shared_ptr<const handler> h, std::string token) {
  boost::beast::flat_buffer buffer;
  asio::steady_timer watchdog(socket.get_executor());
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_request_header);
    parser.body_limit(max_request_body);
    watchdog.expires_after(read_deadline);
    watchdog.async_wait([&socket](boost::system::error_code ec) {
      if (!ec) socket.close(ec);
    });
    boost::system::error_code ec;
    co_await http::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    watchdog.cancel();
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::eof) break;
    if (ec) {
      auto response = to_response(error_reply(400, "bad request: " + ec.message()), 11, false);
      co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    auto req = parser.release();
    // No `cond ? a : co_await b` here: g++ 12 mishandles temporaries in such expressions.
    reply r;
    if (!token.empty() && !token_matches(req, token))
      r = error_reply(401, "missing or wrong bearer token");
    else
      r = co_await dispatch(h.get(), req);
    auto response = to_response(r, req.version(), req.keep_alive());
    co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
    if (r.after_sent) r.after_sent();
    if (ec || !req.keep_alive() || r.after_sent) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(Socket::shutdown_both, ignored);
}

template <class Acceptor>
class acceptor_server final : public server, public std::enable_shared_from_this<acceptor_server<Acceptor>> {
public:
  acceptor_server(Acceptor acceptor, std::string where, std::shared_ptr<const handler> h, std::string token)
      : acceptor_(std::move(acceptor)), where_(std::move(where)), handler_(std::move(h)), token_(std::move(token)) {}

  void start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(this->shared_from_this()), asio::detached); }
  void close() override {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  const std::string& where() const override { return where_; }

private:
  static task<void> accept_loop(std::shared_ptr<acceptor_server> self) {
    for (;;) {
      boost::system::error_code ec;
      auto socket = co_await self->acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
      if (ec) continue;  // e.g. out of descriptors for a moment: the next accept may work
      asio::co_spawn(self->acceptor_.get_executor(), session(std::move(socket), self->handler_, self->token_),
                     asio::detached);
    }
  }

  Acceptor acceptor_;
  std::string where_;
  std::shared_ptr<const handler> handler_;
  std::string token_;
};

}  // namespace

result_or_failure<std::shared_ptr<server>> serve_unix(context& ctx, const std::filesystem::path& path, handler h) {
  using protocol = asio::local::stream_protocol;
  std::error_code removed;
  std::filesystem::remove(path, removed);  // a stale socket of a node that was killed
  protocol::acceptor acceptor(io_executor(ctx));
  boost::system::error_code ec;
  acceptor.open(protocol(), ec);
  // The socket file is created by bind with the process's umask: make it owner-only from the
  // start rather than chmod it after, when someone could already have connected.
  const auto old_mask = ::umask(0177);
  if (!ec) acceptor.bind(protocol::endpoint(path.string()), ec);
  ::umask(old_mask);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return nodus::fail(ec, "cannot serve the control API on " + path.string() + ": " + ec.message());
  auto s = std::make_shared<acceptor_server<protocol::acceptor>>(std::move(acceptor), path.string(),
                                                                 std::make_shared<const handler>(std::move(h)), "");
  s->start();
  return std::shared_ptr<server>(s);
}

result_or_failure<std::shared_ptr<server>> serve_tcp(context& ctx, const std::string& bind, std::string token,
                                                     handler h) {
  using tcp = asio::ip::tcp;
  const auto colon = bind.rfind(':');
  boost::system::error_code ec;
  const auto host = asio::ip::make_address(bind.substr(0, colon), ec);
  if (colon == std::string::npos || ec || !host.is_loopback())
    return nodus::fail(std::make_error_code(std::errc::invalid_argument),
                       "the TCP control API listens on loopback only (e.g. 127.0.0.1:0), not '" + bind + "'");
  unsigned long port = 0;
  try {
    port = std::stoul(bind.substr(colon + 1));
  } catch (const std::exception&) {
    port = 65536;
  }
  if (port > 65535) return nodus::fail(std::make_error_code(std::errc::invalid_argument), "bad port in '" + bind + "'");
  tcp::acceptor acceptor(io_executor(ctx));
  const tcp::endpoint endpoint(host, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return nodus::fail(ec, "cannot serve the control API on " + bind + ": " + ec.message());
  const auto bound = acceptor.local_endpoint();
  auto s = std::make_shared<acceptor_server<tcp::acceptor>>(
      std::move(acceptor), bound.address().to_string() + ":" + std::to_string(bound.port()),
      std::make_shared<const handler>(std::move(h)), std::move(token));
  s->start();
  return std::shared_ptr<server>(s);
}

}  // namespace nodus::cli::control
