// The transit service over real loopback sockets: plain HTTP, HTTPS with a certificate, the
// refusal to listen in the clear beyond loopback, and bounded requests.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <fstream>

#include "eventually.hpp"
#include "log_capture.hpp"
#include "nodus/core/json.hpp"
#include "nodus/node/node.hpp"
#include "nodus/transit/server.hpp"
#include "temp_dir.hpp"

using namespace nodus;
using namespace nodus::transit;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// A self-signed P-256 certificate for 127.0.0.1 and its key, written as PEM files.
tls_files self_signed(const std::filesystem::path& dir) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  tls_files files{dir / "cert.pem", dir / "key.pem"};
  FILE* c = std::fopen(files.certificate.c_str(), "w");
  PEM_write_X509(c, cert);
  std::fclose(c);
  FILE* k = std::fopen(files.private_key.c_str(), "w");
  PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(k);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

struct transit_node {
  test::log_capture logs;
  node n = node::create({.name = "transit-test", .threads = 2, .logger = logs.logger()});
  std::shared_ptr<token_store> tokens = token_store::open("").value();
  std::shared_ptr<const service> api = std::make_shared<const service>(service_options{
      keyring::open(vault::vault::create_in_memory(), "").value(), tokens, nullptr, logs.logger().get()});
  std::string root = tokens->create_token({"root"}, "", std::nullopt).value().token;

  result_or_failure<std::shared_ptr<server>> serve(server_options options) {
    return n.block_on([&](context& ctx) -> task<result_or_failure<std::shared_ptr<server>>> {
      co_return transit::serve(ctx, api, options);
    });
  }
};

std::uint16_t port_of(const std::string& where) {
  return static_cast<std::uint16_t>(std::stoi(where.substr(where.rfind(':') + 1)));
}

template <class Stream>
http::response<http::string_body> exchange(Stream& stream, http::verb method, const std::string& target,
                                           const std::string& token, const std::string& body) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set("X-Vault-Token", token);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

}  // namespace

TEST_CASE("plain HTTP on loopback: a key is made and used over a real connection") {
  transit_node t;
  auto s = t.serve({.listen = "127.0.0.1:0"});
  REQUIRE(s);
  CHECK_FALSE(s.value()->tls());
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port_of(s.value()->where())});
  CHECK(exchange(socket, http::verb::post, "/v1/transit/keys/k", t.root, "").result_int() == 200);
  auto sealed = exchange(socket, http::verb::post, "/v1/transit/encrypt/k", t.root, R"({"plaintext":"aGk="})");
  CHECK(sealed.result_int() == 200);
  CHECK(sealed.body().find("vault:v1:") != std::string::npos);
  CHECK(exchange(socket, http::verb::post, "/v1/transit/encrypt/k", "", R"({"plaintext":"aGk="})").result_int() == 403);
  s.value()->close();
}

TEST_CASE("HTTPS with a certificate and key from files; a client that skips TLS gets nothing") {
  transit_node t;
  test::temp_dir dir("nodus-transit-tls");
  const auto files = self_signed(dir.path);
  auto s = t.serve({.listen = "127.0.0.1:0", .tls = files});
  REQUIRE(s);
  CHECK(s.value()->tls());

  asio::io_context io;
  asio::ssl::context client(asio::ssl::context::tls_client);
  client.load_verify_file(files.certificate.string());
  client.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, client);
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port_of(s.value()->where())});
  stream.handshake(asio::ssl::stream_base::client);
  CHECK(exchange(stream, http::verb::get, "/v1/sys/health", "", "").result_int() == 200);
  CHECK(exchange(stream, http::verb::post, "/v1/transit/random/16", t.root, "").result_int() == 200);

  // Plain HTTP to the TLS port: the server reads a bad handshake and closes.
  asio::ip::tcp::socket plain(io);
  plain.connect({asio::ip::make_address("127.0.0.1"), port_of(s.value()->where())});
  boost::system::error_code ec;
  http::request<http::string_body> req{http::verb::get, "/v1/sys/health", 11};
  http::write(plain, req, ec);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(plain, buffer, res, ec);
  CHECK(ec);
}

TEST_CASE("refused: cleartext beyond loopback, a key that does not match the certificate, a bad address") {
  transit_node t;
  auto open = t.serve({.listen = "0.0.0.0:0"});
  REQUIRE_FALSE(open);
  CHECK(open.error().message().find("only with TLS") != std::string::npos);
  CHECK(t.serve({.listen = "localhost"}).error().message().find("is not HOST:PORT") != std::string::npos);

  test::temp_dir a("nodus-transit-tls-a"), b("nodus-transit-tls-b");
  auto mismatched = self_signed(a.path);
  mismatched.private_key = self_signed(b.path).private_key;
  auto refused = t.serve({.listen = "127.0.0.1:0", .tls = mismatched});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("does not match the certificate") != std::string::npos);
  auto missing = t.serve({.listen = "127.0.0.1:0", .tls = tls_files{a.path / "none.pem", a.path / "none.pem"}});
  CHECK(missing.error().message().find("does not exist") != std::string::npos);
  std::ofstream(a.path / "junk.pem") << "not a certificate\n";
  auto junk = t.serve({.listen = "127.0.0.1:0", .tls = tls_files{a.path / "junk.pem", a.path / "junk.pem"}});
  CHECK(junk.error().message().find("cannot use the TLS certificate") == 0);
}

TEST_CASE("a request announcing a body over the limit gets 413 and is closed; the service goes on") {
  transit_node t;
  auto s = t.serve({.listen = "127.0.0.1:0"});
  REQUIRE(s);
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port_of(s.value()->where())});
  // Only the header is sent: the server refuses on the length it announces, before any body.
  const std::string head =
      "POST /v1/transit/encrypt/k HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(max_request_body + 1) +
      "\r\n\r\n";
  asio::write(socket, asio::buffer(head));
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  CHECK(res.result_int() == 413);
  boost::system::error_code ec;
  http::read(socket, buffer, res, ec);
  CHECK(ec);  // closed
  asio::ip::tcp::socket again(io);
  again.connect({asio::ip::make_address("127.0.0.1"), port_of(s.value()->where())});
  CHECK(exchange(again, http::verb::get, "/v1/sys/health", "", "").result_int() == 200);
}

TEST_CASE("connections beyond max_connections are closed at once; a freed place is taken again") {
  transit_node t;
  auto s = t.serve({.listen = "127.0.0.1:0", .max_connections = 2});
  REQUIRE(s);
  const asio::ip::tcp::endpoint at{asio::ip::make_address("127.0.0.1"), port_of(s.value()->where())};
  asio::io_context io;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    held.back()->connect(at);
    CHECK(exchange(*held.back(), http::verb::get, "/v1/sys/health", "", "").result_int() == 200);  // counted
  }
  asio::ip::tcp::socket third(io);
  third.connect(at);
  boost::system::error_code ec;
  http::request<http::string_body> req{http::verb::get, "/v1/sys/health", 11};
  http::write(third, req, ec);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(third, buffer, res, ec);
  CHECK(ec);  // closed without an answer

  held.front()->close();  // the server sees the close and frees the place
  CHECK(test::eventually([&] {
    asio::ip::tcp::socket again(io);
    again.connect(at);
    boost::system::error_code e;
    http::write(again, req, e);
    http::response<http::string_body> r;
    boost::beast::flat_buffer b;
    http::read(again, b, r, e);
    return !e && r.result_int() == 200;
  }));
}
