#pragma once
// The bytes that travel between the two ends of a secure channel (the payload of the messages
// the intermediaries carry):
//
//   [version = 1] [kind] [body]
//
//   kind 1, 2, 3  handshake message 1, 2 or 3; body = the Noise message
//   kind 4        encrypted; body = 8-byte big-endian sequence number (the Noise nonce), then
//                 the AEAD ciphertext of [content kind] [content]; the 10-byte header is the
//                 associated data, so nothing in the frame can change unnoticed
//   kind 5        handshake aborted; body = a UTF-8 reason (at most 1 KiB), unauthenticated:
//                 it only ends a handshake sooner than its timeout would
//   kind 6        handshake timeout; only ever sent by a responder to itself
//
// Content kinds inside the ciphertext: 0 a message (an encoded transport_message: onward route,
// return route, payload), 1 close, 2 handshake confirmed (the responder's first message, so the
// initiator knows its identity was accepted), 3 a credential (the sender's refreshed credential,
// replacing the one its handshake message presented).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "nodus/core/bytes.hpp"

namespace nodus::secure_channel::frame {

inline constexpr std::uint8_t version = 1;

enum class kind : std::uint8_t {
  handshake_1 = 1,
  handshake_2 = 2,
  handshake_3 = 3,
  encrypted = 4,
  abort = 5,
  handshake_timeout = 6,
};

enum class content : std::uint8_t { message = 0, close = 1, confirmed = 2, credential = 3 };

inline constexpr std::size_t header_size = 2;
inline constexpr std::size_t encrypted_header_size = header_size + 8;
inline constexpr std::size_t max_abort_reason = 1024;

/// A frame split into its parts; `body` points into the bytes it was parsed from.
struct parsed {
  frame::kind kind;
  byte_view body;
  std::uint64_t sequence = 0;  // encrypted frames only
  byte_view header;            // encrypted frames only: the associated data
};

/// The parts of `wire`, or nothing when it is not a frame of this version.
std::optional<parsed> parse(byte_view wire);

bytes handshake(int index, byte_view noise_message);
bytes abort(std::string_view reason);
bytes timeout();
/// Writes the 10-byte header of an encrypted frame; the ciphertext is appended after it.
void encrypted_header(std::uint64_t sequence, bytes& out);
/// The same header written over the first 10 bytes of `out` (a frame begun with room for it).
void write_encrypted_header(std::uint64_t sequence, std::span<std::uint8_t, encrypted_header_size> out);

}  // namespace nodus::secure_channel::frame
