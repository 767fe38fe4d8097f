// A KEK in a Vault-transit-compatible service (Nodus's own, docs/transit.md, or Vault): wrap is
// POST /v1/transit/encrypt/NAME {"plaintext": base64} -> data.ciphertext ("vault:vN:..."),
// unwrap decrypt, rewrap rewrap, rotate POST /v1/transit/keys/NAME/rotate. Each call is one
// synchronous HTTP/1.1 request on its own io_context, bounded by the timeout (connection
// included) and by a 64 KiB response; the caller's thread waits. http:// only to loopback.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <iterator>

#include "nodus/core/base64.hpp"
#include "nodus/core/error.hpp"
#include "nodus/core/json.hpp"
#include "nodus/kafka_crypto/key_wrapper.hpp"
#include "nodus/vault/secret.hpp"

namespace nodus::kafka_crypto {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t max_response = 64 << 10;

struct endpoint {
  bool tls = false;
  std::string host, port;
};

result_or_failure<endpoint> parse_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return fail(std::make_error_code(std::errc::invalid_argument), "transit URL '" + url + "': " + why);
  };
  endpoint e;
  std::string rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    e.tls = true;
    rest = url.substr(8);
  } else {
    return bad("give http://HOST:PORT (loopback) or https://HOST:PORT");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos || rest.find('@') != std::string::npos)
    return bad("only a scheme, a host and a port (no path, no user)");
  std::string hostport = rest;
  std::size_t colon;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string::npos) return bad("an unclosed [");
    e.host = hostport.substr(1, close - 1);
    colon = hostport.find(':', close);
  } else {
    colon = hostport.rfind(':');
    e.host = hostport.substr(0, colon);
  }
  e.port = colon == std::string::npos ? (e.tls ? "443" : "80") : hostport.substr(colon + 1);
  if (e.host.empty() || e.port.empty() || e.port.find_first_not_of("0123456789") != std::string::npos)
    return bad("a host and a numeric port");
  if (!e.tls) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(e.host, ec);
    if (e.host != "localhost" && (ec || !address.is_loopback()))
      return bad("plain http only to a loopback address (127.0.0.1, ::1, localhost); use https:// with --kek-ca");
  }
  return e;
}

class transit_kek final : public key_wrapper {
public:
  transit_kek(transit_kek_options o, endpoint e) : o_(std::move(o)), e_(std::move(e)) {}
  ~transit_kek() override { vault::wipe_bytes(o_.token.data(), o_.token.size()); }

  result_or_failure<std::string> wrap(byte_view key) override {
    json::value body;
    body["plaintext"] = base64_encode(key);
    auto r = call("/v1/transit/encrypt/" + o_.key, body, "encrypt");
    if (!r) return std::move(r).error();
    return ciphertext_of(r.value(), "encrypt");
  }

  result_or_failure<vault::secret> unwrap(std::string_view wrapped) override {
    json::value body;
    body["ciphertext"] = std::string(wrapped);
    auto r = call("/v1/transit/decrypt/" + o_.key, body, "decrypt");
    if (!r) return std::move(r).error();
    const auto* data = r.value().find("data");
    const auto* plaintext = data ? data->find("plaintext") : nullptr;
    auto decoded = plaintext && plaintext->as_string() ? base64_decode(*plaintext->as_string()) : std::nullopt;
    if (!decoded) return malformed_answer("decrypt");
    vault::secret out{byte_view(*decoded)};
    vault::wipe_bytes(decoded->data(), decoded->size());
    return out;
  }

  result_or_failure<std::string> rewrap(std::string_view wrapped) override {
    json::value body;
    body["ciphertext"] = std::string(wrapped);
    auto r = call("/v1/transit/rewrap/" + o_.key, body, "rewrap");
    if (!r) return std::move(r).error();
    return ciphertext_of(r.value(), "rewrap");
  }

  result_or_failure<> rotate() override {
    auto r = call("/v1/transit/keys/" + o_.key + "/rotate", json::value(json::object{}), "rotate");
    if (!r) return std::move(r).error();
    return outcome::success();
  }

  std::string describe() const override { return "transit key '" + o_.key + "' at " + o_.url; }

private:
  failure malformed_answer(const char* op) const {
    return failure(make_error_code(errc::malformed), describe() + ": " + op + ": an answer without the expected data");
  }

  result_or_failure<std::string> ciphertext_of(const json::value& r, const char* op) const {
    const auto* data = r.find("data");
    const auto* ciphertext = data ? data->find("ciphertext") : nullptr;
    if (!ciphertext || !ciphertext->as_string() || ciphertext->as_string()->empty() ||
        ciphertext->as_string()->size() > 4096)
      return malformed_answer(op);
    return *ciphertext->as_string();
  }

  // One request; the answer's JSON on 2xx, else a failure saying what (unreachable, 403, ...).
  result_or_failure<json::value> call(const std::string& path, const json::value& body, const char* op) {
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, e_.host);
    req.set("X-Vault-Token", o_.token);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(false);
    req.body() = json::dump(body);
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response);
    parser.header_limit(16 << 10);
    boost::beast::flat_buffer buffer;
    boost::system::error_code failed;
    std::string stage = "resolve";
    asio::io_context io;
    tcp::resolver resolver(io);
    tcp::socket plain(io);
    std::optional<asio::ssl::context> tls_ctx;
    std::optional<asio::ssl::stream<tcp::socket&>> tls;
    if (e_.tls) {
      tls_ctx.emplace(asio::ssl::context::tls_client);
      boost::system::error_code ec;
      if (o_.ca_file.empty())
        tls_ctx->set_default_verify_paths(ec);
      else
        tls_ctx->load_verify_file(o_.ca_file.string(), ec);
      if (ec)
        return fail(std::make_error_code(std::errc::invalid_argument),
                    describe() + ": cannot load the CA file " + o_.ca_file.string() + ": " + ec.message());
      tls_ctx->set_verify_mode(asio::ssl::verify_peer);
      tls.emplace(plain, *tls_ctx);
      tls->set_verify_callback(asio::ssl::host_name_verification(e_.host));
      SSL_set_tlsext_host_name(tls->native_handle(), e_.host.c_str());
    }
    auto read = [&] {
      stage = "read";
      auto done = [&](boost::system::error_code ec, std::size_t) {
        if (ec) failed = ec;
        stage = "done";
      };
      if (tls)
        http::async_read(*tls, buffer, parser, done);
      else
        http::async_read(plain, buffer, parser, done);
    };
    auto write = [&] {
      stage = "send";
      auto done = [&](boost::system::error_code ec, std::size_t) {
        if (ec) return void(failed = ec);
        read();
      };
      if (tls)
        http::async_write(*tls, req, done);
      else
        http::async_write(plain, req, done);
    };
    resolver.async_resolve(e_.host, e_.port, [&](boost::system::error_code ec, tcp::resolver::results_type found) {
      if (ec) return void(failed = ec);
      stage = "connect";
      asio::async_connect(plain, found, [&](boost::system::error_code connected, const tcp::endpoint&) {
        if (connected) return void(failed = connected);
        if (!tls) return write();
        stage = "TLS handshake";
        tls->async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code shaken) {
          if (shaken) return void(failed = shaken);
          write();
        });
      });
    });
    io.run_for(o_.timeout);
    vault::wipe_bytes(req.body().data(), req.body().size());
    if (stage != "done" && !failed) failed = asio::error::timed_out;
    if (failed) {
      const bool unreachable = stage == "resolve" || stage == "connect";
      return fail(
          unreachable ? std::make_error_code(std::errc::host_unreachable) : std::make_error_code(std::errc::timed_out),
          describe() + ": " + op + ": " +
              (unreachable ? "unreachable (" + stage + ": " + failed.message() + ")"
                           : stage + " failed: " + failed.message()));
    }
    auto res = parser.release();
    const int status = res.result_int();
    auto parsed = json::parse(res.body(), {.max_size = max_response});
    if (status < 200 || status > 299) {
      std::string why;
      if (parsed)
        if (const auto* errors = parsed.value().find("errors"); errors && errors->as_array())
          for (const auto& e : *errors->as_array())
            if (e.as_string()) why += (why.empty() ? "" : "; ") + e.as_string()->substr(0, 300);
      const auto code = status == 403   ? std::make_error_code(std::errc::permission_denied)
                        : status == 404 ? std::make_error_code(std::errc::no_such_file_or_directory)
                        : status < 500  ? std::make_error_code(std::errc::invalid_argument)
                                        : std::make_error_code(std::errc::io_error);
      const std::string what = status == 403 ? " (a wrong token, or one whose policy does not allow it)" : "";
      return fail(code, describe() + ": " + op + ": HTTP " + std::to_string(status) + what +
                            (why.empty() ? std::string() : ": " + why));
    }
    if (!parsed) return malformed_answer(op);
    return std::move(parsed).value();
  }

  transit_kek_options o_;
  endpoint e_;
};

bool valid_key_name(const std::string& k) {
  return !k.empty() && k.size() <= 128 &&
         k.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
}

}  // namespace

result_or_failure<std::shared_ptr<key_wrapper>> open_transit_kek(transit_kek_options o) {
  auto e = parse_url(o.url);
  if (!e) return std::move(e).error();
  if (!valid_key_name(o.key))
    return fail(std::make_error_code(std::errc::invalid_argument),
                "transit key name '" + o.key + "': 1 to 128 of [A-Za-z0-9._-]");
  if (o.token.empty() || o.token.find_first_of("\r\n") != std::string::npos)
    return fail(std::make_error_code(std::errc::invalid_argument), "a transit KEK needs a token (one line)");
  if (o.timeout <= std::chrono::milliseconds(0)) o.timeout = std::chrono::milliseconds(5000);
  return std::shared_ptr<key_wrapper>(std::make_shared<transit_kek>(std::move(o), std::move(e).value()));
}

result_or_failure<std::string> read_secret_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(std::make_error_code(std::errc::no_such_file_or_directory), file.string() + ": cannot read");
  std::string text;
  text.resize(4096);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (const auto nl = text.find_first_of("\r\n"); nl != std::string::npos) {
    vault::wipe_bytes(text.data() + nl, text.size() - nl);
    text.resize(nl);
  }
  if (text.empty()) return fail(std::make_error_code(std::errc::invalid_argument), file.string() + ": empty");
  return text;
}

}  // namespace nodus::kafka_crypto
