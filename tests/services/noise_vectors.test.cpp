// Replays published Noise XX vectors (cacophony format) through noise_xx_handshake: every
// handshake message, every transport message and the handshake hash must match byte for byte.
// Reads $NODUS_NOISE_VECTORS when set, else third_party/noise/*.json.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodus/secure_channel/noise.hpp"
#include "nodus/vault/vault.hpp"

namespace nsc = nodus::secure_channel;
namespace vault = nodus::vault;

namespace {

nodus::bytes from_hex(const std::string& hex) {
  REQUIRE(hex.size() % 2 == 0);
  nodus::bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<std::filesystem::path> vector_files() {
  if (const char* file = std::getenv("NODUS_NOISE_VECTORS"); file != nullptr && *file != '\0') return {file};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(NODUS_THIRD_PARTY_DIR "/noise"))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<nsc::cipher_suite> suite_of(const std::string& protocol) {
  for (auto suite : {nsc::cipher_suite::aes256_gcm, nsc::cipher_suite::chacha20_poly1305})
    if (protocol == nsc::noise_protocol_name(suite)) return suite;
  return std::nullopt;  // PSK variants and other patterns: not implemented
}

nsc::noise_xx_handshake start(const std::shared_ptr<vault::vault>& v, nsc::noise_xx_handshake::role side,
                              nsc::cipher_suite suite, const nlohmann::json& vec, const std::string& who) {
  auto s = v->import_secret(vault::key_type::x25519, from_hex(vec[who + "_static"]));
  auto e = v->import_secret(vault::key_type::x25519, from_hex(vec[who + "_ephemeral"]));
  REQUIRE(s);
  REQUIRE(e);
  nsc::noise_xx_handshake::options o{side, suite, s.value(), e.value(), from_hex(vec[who + "_prologue"])};
  auto h = nsc::noise_xx_handshake::create(v, std::move(o));
  REQUIRE(h);
  return std::move(h.value());
}

// Replays one vector; both sides run here, each checking what the other would receive.
void replay(const nlohmann::json& vec, nsc::cipher_suite suite) {
  auto v = vault::vault::create_in_memory();
  auto initiator = start(v, nsc::noise_xx_handshake::role::initiator, suite, vec, "init");
  auto responder = start(v, nsc::noise_xx_handshake::role::responder, suite, vec, "resp");
  const auto& messages = vec["messages"];
  REQUIRE(messages.size() >= 3);

  for (std::size_t i = 0; i < 3; ++i) {
    auto& writer = i % 2 == 0 ? initiator : responder;
    auto& reader = i % 2 == 0 ? responder : initiator;
    auto payload = from_hex(messages[i]["payload"]);
    auto written = writer.write_message(payload);
    REQUIRE(written);
    CHECK(written.value() == from_hex(messages[i]["ciphertext"]));
    auto read = reader.read_message(written.value());
    REQUIRE(read);
    CHECK(read.value() == payload);
  }
  REQUIRE(initiator.complete());
  REQUIRE(responder.complete());
  if (!vec["handshake_hash"].is_null()) CHECK(initiator.handshake_hash() == from_hex(vec["handshake_hash"]));
  CHECK(initiator.handshake_hash() == responder.handshake_hash());

  auto init_transport = initiator.split();
  auto resp_transport = responder.split();
  REQUIRE(init_transport);
  REQUIRE(resp_transport);
  std::uint64_t init_nonce = 0, resp_nonce = 0;
  for (std::size_t i = 3; i < messages.size(); ++i) {
    bool from_initiator = i % 2 == 0;
    auto& sender = from_initiator ? init_transport.value().send : resp_transport.value().send;
    auto& receiver = from_initiator ? resp_transport.value().receive : init_transport.value().receive;
    auto& nonce = from_initiator ? init_nonce : resp_nonce;
    auto payload = from_hex(messages[i]["payload"]);
    nodus::bytes sealed, opened;
    REQUIRE(sender.seal(nonce, {}, payload, sealed));
    CHECK(sealed == from_hex(messages[i]["ciphertext"]));
    REQUIRE(receiver.open(nonce, {}, sealed, opened));
    CHECK(opened == payload);
    ++nonce;
  }
}

}  // namespace

TEST_CASE("noise_vectors: every supported vector matches byte for byte") {
  int checked = 0, skipped = 0;
  for (const auto& file : vector_files()) {
    std::ifstream in(file);
    REQUIRE_MESSAGE(in.good(), "cannot read ", file.string());
    auto doc = nlohmann::json::parse(in);
    const auto& vectors = doc.is_array() ? doc : doc["vectors"];
    for (const auto& vec : vectors) {
      std::string protocol = vec["protocol_name"];
      auto suite = suite_of(protocol);
      if (!suite) {
        ++skipped;
        continue;
      }
      CAPTURE(file.string());
      CAPTURE(protocol);
      replay(vec, *suite);
      ++checked;
    }
  }
  MESSAGE("noise_vectors: checked ", checked, " vectors, skipped ", skipped, " (protocols not implemented)");
  CHECK(checked > 0);
}
