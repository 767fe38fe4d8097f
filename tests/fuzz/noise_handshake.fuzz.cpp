// Fuzzes the Noise XX state machine, `noise_xx_handshake`, reading handshake messages 1, 2 and
// 3 that an attacker chose, against an honest peer.
//
// Input: [mode] then data. mode bit 0: the cipher suite (AES-GCM, ChaChaPoly); (mode >> 1) % 3:
// the index i of the message the data is about; bit 3: the data is the payload the honest
// writer puts in message i (else the data replaces message i on its way to the reader); bit 4:
// first hand the data to the side whose turn it is to write (it must refuse it and carry on).
// Both sides use fixed static and ephemeral keys, so the honest messages are the same in every
// run and the corpus holds them: mutating them reaches every step of the handshake.
//
// Properties: an honest message is read back with its payload; a message other than the honest
// one is refused from message 2 on (message 1 is not authenticated: it may be accepted, and then
// the handshake must fail later); a refused message leaves the reader dead (it writes and reads
// nothing more); when both sides complete, nothing was tampered with, they agree on the
// handshake hash and each other's static keys, and their transport ciphers talk to each other;
// no run leaves a key behind in the vault.

#include <array>

#include "fuzz_noise.hpp"
#include "fuzz_support.hpp"

using namespace nodus;
using nodus::fuzz::fixed_keys;
using nodus::fuzz::input;
using nodus::fuzz::start;
namespace nsc = nodus::secure_channel;
using role = nsc::noise_xx_handshake::role;

namespace {

// A dead handshake neither writes nor reads.
void check_dead(nsc::noise_xx_handshake& h) {
  NODUS_FUZZ_CHECK(!h.complete());
  NODUS_FUZZ_CHECK(!h.write_message({}));
  NODUS_FUZZ_CHECK(!h.read_message(bytes(96, 0)));
}

// After a complete handshake, each side's send cipher must reach the other's receive cipher.
void check_transport(nsc::noise_xx_handshake& initiator, nsc::noise_xx_handshake& responder) {
  auto a = initiator.split();
  auto b = responder.split();
  NODUS_FUZZ_CHECK(a && b);
  NODUS_FUZZ_CHECK(a.value().handshake_hash == b.value().handshake_hash);
  const bytes ad{1, 2}, text{'h', 'i'};
  bytes sealed, opened;
  NODUS_FUZZ_CHECK(a.value().send.seal(7, ad, text, sealed));
  NODUS_FUZZ_CHECK(b.value().receive.open(7, ad, sealed, opened) && opened == text);
  sealed.clear();
  opened.clear();
  NODUS_FUZZ_CHECK(b.value().send.seal(0, ad, text, sealed));
  NODUS_FUZZ_CHECK(a.value().receive.open(0, ad, sealed, opened) && opened == text);
}

void run(std::uint8_t mode, byte_view data) {
  const auto suite = (mode & 1) ? nsc::cipher_suite::chacha20_poly1305 : nsc::cipher_suite::aes256_gcm;
  const int target = (mode >> 1) % 3;
  const bool data_is_payload = (mode & 8) != 0;
  const bool wrong_turn_first = (mode & 16) != 0;
  const auto& payloads = nodus::fuzz::honest_payloads;

  auto initiator = start(role::initiator, suite);
  auto responder = start(role::responder, suite);
  bool tampered = false;
  for (int i = 0; i < 3; ++i) {
    auto& writer = i % 2 == 0 ? initiator : responder;
    auto& reader = i % 2 == 0 ? responder : initiator;
    if (i == target && wrong_turn_first) NODUS_FUZZ_CHECK(!writer.read_message(data));
    const bytes payload = i == target && data_is_payload ? bytes(data.begin(), data.end()) : payloads[i];
    auto written = writer.write_message(payload);
    if (!written) {
      // Honest state fails only on a payload too large for a Noise message, or (tampered) a
      // weak key the attacker slipped in.
      NODUS_FUZZ_CHECK(tampered || payload.size() > nsc::noise_max_message_size - 200);
      return;
    }
    NODUS_FUZZ_CHECK(written.value().size() <= nsc::noise_max_message_size);
    const bool replace = i == target && !data_is_payload;
    const byte_view delivered = replace ? data : byte_view(written.value());
    const bool honest = std::equal(delivered.begin(), delivered.end(), written.value().begin(), written.value().end());
    auto read = reader.read_message(delivered);
    if (!read) {
      NODUS_FUZZ_CHECK(!honest || tampered);
      check_dead(reader);
      return;
    }
    if (honest && !tampered) NODUS_FUZZ_CHECK(read.value() == payload);
    if (!honest) {
      NODUS_FUZZ_CHECK(i == 0);  // only message 1 is unauthenticated
      tampered = true;
    }
  }
  NODUS_FUZZ_CHECK(initiator.complete() && responder.complete());
  NODUS_FUZZ_CHECK(!tampered);
  NODUS_FUZZ_CHECK(initiator.handshake_hash() == responder.handshake_hash());
  NODUS_FUZZ_CHECK(initiator.remote_static() == fixed_keys().responder_public);
  NODUS_FUZZ_CHECK(responder.remote_static() == fixed_keys().initiator_public);
  check_transport(initiator, responder);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const auto mode = in.u8();
  run(mode, in.rest());
  NODUS_FUZZ_CHECK(fixed_keys().v->list().size() == fixed_keys().count);
  return 0;
}
