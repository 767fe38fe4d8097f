#include "channel_frame.hpp"

namespace nodus::secure_channel::frame {

std::optional<parsed> parse(byte_view wire) {
  if (wire.size() < header_size || wire[0] != version) return std::nullopt;
  auto k = static_cast<frame::kind>(wire[1]);
  switch (k) {
    case kind::handshake_1:
    case kind::handshake_2:
    case kind::handshake_3:
    case kind::handshake_timeout: return parsed{k, wire.subspan(header_size)};
    case kind::abort:
      if (wire.size() > header_size + max_abort_reason) return std::nullopt;
      return parsed{k, wire.subspan(header_size)};
    case kind::encrypted: {
      if (wire.size() < encrypted_header_size) return std::nullopt;
      std::uint64_t sequence = 0;
      for (std::size_t i = header_size; i < encrypted_header_size; ++i) sequence = (sequence << 8) | wire[i];
      return parsed{k, wire.subspan(encrypted_header_size), sequence, wire.first(encrypted_header_size)};
    }
  }
  return std::nullopt;
}

bytes handshake(int index, byte_view noise_message) {
  bytes out;
  out.reserve(header_size + noise_message.size());
  out.push_back(version);
  out.push_back(static_cast<std::uint8_t>(static_cast<int>(kind::handshake_1) + index));
  out.insert(out.end(), noise_message.begin(), noise_message.end());
  return out;
}

bytes abort(std::string_view reason) {
  reason = reason.substr(0, max_abort_reason);
  bytes out;
  out.reserve(header_size + reason.size());
  out.push_back(version);
  out.push_back(static_cast<std::uint8_t>(kind::abort));
  out.insert(out.end(), reason.begin(), reason.end());
  return out;
}

bytes timeout() { return {version, static_cast<std::uint8_t>(kind::handshake_timeout)}; }

void encrypted_header(std::uint64_t sequence, bytes& out) {
  const auto at = out.size();
  out.resize(at + encrypted_header_size);
  write_encrypted_header(sequence, std::span(out).subspan(at).first<encrypted_header_size>());
}

void write_encrypted_header(std::uint64_t sequence, std::span<std::uint8_t, encrypted_header_size> out) {
  out[0] = version;
  out[1] = static_cast<std::uint8_t>(kind::encrypted);
  for (std::size_t i = 0; i < 8; ++i) out[header_size + i] = static_cast<std::uint8_t>(sequence >> (56 - 8 * i));
}

}  // namespace nodus::secure_channel::frame
