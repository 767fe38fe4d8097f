#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/transit/server.hpp"

#include <atomic>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "nodus/core/host_port.hpp"
#include "nodus/node/extension.hpp"

namespace nodus::transit {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr auto read_deadline = std::chrono::seconds(30);
constexpr std::size_t max_header = 16 * 1024;

using http_message = http::request<http::string_body>;

std::string token_of(const http_message& req) {
  if (auto v = req["X-Vault-Token"]; !v.empty()) return std::string(v);
  const auto auth = req[http::field::authorization];
  if (auth.starts_with("Bearer ")) return std::string(auth.substr(7));
  return {};
}

http::response<http::string_body> to_http(const http_response& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> out{static_cast<http::status>(r.status), version};
  out.set(http::field::server, "nodus-transit");
  out.set(http::field::cache_control, "no-store");
  if (!r.body.empty()) out.set(http::field::content_type, "application/json");
  out.keep_alive(keep_alive);
  out.body() = r.body;
  out.prepare_payload();
  return out;
}

http_response too_large_or_bad(boost::system::error_code ec) {
  const bool too_large = ec == http::error::body_limit || ec == http::error::header_limit;
  std::string body = R"({"errors":[")";
  body += too_large ? "request too large" : "malformed request";
  body += "\"]}";
  return {too_large ? 413u : 400u, body};
}

// One connection on `stream` (a TCP socket or a TLS stream over one): requests in order until
// the client closes, goes silent, or sends a malformed request (answered, then closed).
template <class Stream>
task<void> session(Stream& stream, tcp::socket& socket, std::shared_ptr<const service> api) {
  boost::beast::flat_buffer buffer;
  asio::steady_timer watchdog(socket.get_executor());
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_header);
    parser.body_limit(max_request_body);
    watchdog.expires_after(read_deadline);
    watchdog.async_wait([&socket](boost::system::error_code ec) {
      if (!ec) socket.close(ec);
    });
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    watchdog.cancel();
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated)
      break;
    if (ec) {
      auto response = to_http(too_large_or_bad(ec), 11, false);
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    auto req = parser.release();
    const http_request call{std::string(req.method_string()), std::string(req.target()), token_of(req),
                            std::move(req.body())};
    auto response = to_http(api->handle(call), req.version(), req.keep_alive());
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !req.keep_alive()) break;
  }
}

class transit_server final : public server, public std::enable_shared_from_this<transit_server> {
public:
  transit_server(tcp::acceptor acceptor, std::string where, std::shared_ptr<const service> api,
                 std::unique_ptr<asio::ssl::context> tls, std::size_t max_connections)
      : acceptor_(std::move(acceptor)),
        where_(std::move(where)),
        api_(std::move(api)),
        tls_(std::move(tls)),
        max_connections_(max_connections) {}

  void start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(shared_from_this()), asio::detached); }
  void close() override {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  const std::string& where() const override { return where_; }
  bool tls() const override { return tls_ != nullptr; }

private:
  static task<void> accept_loop(std::shared_ptr<transit_server> self) {
    for (;;) {
      boost::system::error_code ec;
      auto socket = co_await self->acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
      if (ec) continue;
      if (self->open_connections_.load() >= self->max_connections_) {
        socket.close(ec);  // over the limit: the client sees the connection closed
        continue;
      }
      ++self->open_connections_;
      asio::co_spawn(self->acceptor_.get_executor(), connection(self, std::move(socket)), asio::detached);
    }
  }

  static task<void> connection(std::shared_ptr<transit_server> self, tcp::socket socket) {
    struct release {
      transit_server* s;
      ~release() { --s->open_connections_; }
    } counted{self.get()};
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    if (!self->tls_) {
      co_await session(socket, socket, self->api_);
      socket.shutdown(tcp::socket::shutdown_both, ec);
      co_return;
    }
    asio::ssl::stream<tcp::socket&> stream(socket, *self->tls_);
    asio::steady_timer watchdog(socket.get_executor());
    watchdog.expires_after(read_deadline);
    watchdog.async_wait([&socket](boost::system::error_code e) {
      if (!e) socket.close(e);
    });
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    watchdog.cancel();
    if (ec) co_return;
    co_await session(stream, socket, self->api_);
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  tcp::acceptor acceptor_;
  std::string where_;
  std::shared_ptr<const service> api_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::size_t max_connections_;
  std::atomic<std::size_t> open_connections_{0};
};

auto refused(const std::string& why) { return nodus::fail(std::make_error_code(std::errc::invalid_argument), why); }

// OpenSSL's reason for `ec` ("no such file", "key values mismatch"); Asio's message says only
// "asio.ssl error".
std::string reason_of(const boost::system::error_code& ec) {
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  return reason ? reason : ec.message();
}

result_or_failure<std::unique_ptr<asio::ssl::context>> tls_context(const tls_files& files) {
  for (const auto& file : {files.certificate, files.private_key}) {
    std::error_code missing;
    if (!std::filesystem::is_regular_file(file, missing))
      return refused("the TLS file " + file.string() + " does not exist or is not a file");
  }
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                   ec);
  ctx->use_certificate_chain_file(files.certificate.string(), ec);
  if (ec) return refused("cannot use the TLS certificate " + files.certificate.string() + ": " + reason_of(ec));
  ctx->use_private_key_file(files.private_key.string(), asio::ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
    return refused("the TLS private key " + files.private_key.string() + " does not match the certificate " +
                   files.certificate.string());
  if (ec) return refused("cannot use the TLS private key " + files.private_key.string() + ": " + reason_of(ec));
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return refused("the TLS private key " + files.private_key.string() + " does not match the certificate " +
                   files.certificate.string());
  return ctx;
}

}  // namespace

result_or_failure<std::shared_ptr<server>> serve(context& ctx, std::shared_ptr<const service> api,
                                                 server_options options) {
  auto parsed = split_host_port(options.listen);
  if (!parsed) return refused("'" + options.listen + "' is not HOST:PORT");
  boost::system::error_code ec;
  const auto host = asio::ip::make_address(parsed.value().first, ec);
  if (ec) return refused("the transit service listens on an IP address, not '" + parsed.value().first + "'");
  const auto port = static_cast<unsigned short>(std::stoul(parsed.value().second));
  if (!host.is_loopback() && !options.tls)
    return refused("the transit service listens on " + options.listen +
                   " only with TLS (give a certificate and key), or on loopback behind a TCP portal");
  std::unique_ptr<asio::ssl::context> tls;
  if (options.tls) {
    auto made = tls_context(*options.tls);
    if (!made) return made.error();
    tls = std::move(made).value();
  }
  tcp::acceptor acceptor(io_executor(ctx));
  const tcp::endpoint endpoint(host, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return nodus::fail(ec, "cannot listen on " + options.listen + ": " + ec.message());
  const auto bound = acceptor.local_endpoint();
  auto s = std::make_shared<transit_server>(std::move(acceptor),
                                            bound.address().to_string() + ":" + std::to_string(bound.port()),
                                            std::move(api), std::move(tls), options.max_connections);
  s->start();
  return std::shared_ptr<server>(s);
}

}  // namespace nodus::transit
