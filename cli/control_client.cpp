#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "control_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace nodus::cli::control {
namespace asio = boost::asio;
namespace http = boost::beast::http;

result_or_failure<response> call(const std::filesystem::path& socket_path, const std::string& method,
                                 const std::string& path, const json::value& body, std::chrono::milliseconds timeout) {
  using protocol = asio::local::stream_protocol;
  asio::io_context io;
  protocol::socket socket(io);
  http::request<http::string_body> req{http::string_to_verb(method), path, 11};
  req.set(http::field::host, "nodus");
  req.keep_alive(false);
  if (!body.is_null()) {
    req.set(http::field::content_type, "application/json");
    req.body() = json::dump(body);
  }
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  boost::beast::flat_buffer buffer;
  boost::system::error_code failed;
  std::string stage = "connect";
  // Each step chains the next; the first error stops the chain and is reported with its stage.
  socket.async_connect(protocol::endpoint(socket_path.string()), [&](boost::system::error_code ec) {
    if (ec) return void(failed = ec);
    stage = "send";
    http::async_write(socket, req, [&](boost::system::error_code written, std::size_t) {
      if (written) return void(failed = written);
      stage = "read";
      http::async_read(socket, buffer, parser, [&](boost::system::error_code read, std::size_t) {
        if (read) failed = read;
        stage = "done";
      });
    });
  });
  io.run_for(timeout);
  if (stage != "done" && !failed) failed = asio::error::timed_out;
  if (failed) {
    const bool absent =
        stage == "connect" && (failed == asio::error::connection_refused || failed == asio::error::not_found ||
                               failed == boost::system::errc::no_such_file_or_directory);
    const std::string reason = absent ? "the node is not running (nothing answers on " + socket_path.string() + ")"
                                      : "the node did not answer (" + stage + ": " + failed.message() + ")";
    return nodus::fail(
        absent ? std::make_error_code(std::errc::connection_refused) : std::make_error_code(std::errc::timed_out),
        reason);
  }
  auto res = parser.release();
  response out;
  out.status = res.result_int();
  if (!res.body().empty()) {
    auto parsed = json::parse(res.body(), {.max_size = 64 << 20});
    if (!parsed) return nodus::fail(parsed.error().code, "the node's answer is not JSON: " + parsed.error().message());
    out.body = std::move(parsed).value();
  }
  return out;
}

}  // namespace nodus::cli::control
