#include "nodus/kafka/records/legacy_message.hpp"

#include <string>

#include "nodus/kafka/records/crc.hpp"
#include "wire.hpp"

namespace nodus::kafka::records {

namespace {

// message_size counts crc, magic, attributes, [timestamp], and the two length fields at least.
constexpr std::int32_t min_size_v0 = 4 + 1 + 1 + 4 + 4;
constexpr std::int32_t min_size_v1 = min_size_v0 + 8;
constexpr std::size_t crc_end = 16;  // the CRC covers the bytes from the magic on

std::optional<bytes> nullable_bytes(detail::reader& in) {
  const auto length = in.i32();
  if (length == -1 || !in.ok()) return std::nullopt;
  if (length < 0) {
    in.fail();
    return std::nullopt;
  }
  const auto b = in.take(static_cast<std::size_t>(length));
  return bytes(b.begin(), b.end());
}

result_or_failure<legacy_message> decode_message(byte_view wire, const decode_limits& limits, std::size_t& spent,
                                                 bool inner);

// A wrapper's value: whole messages, one after the other, none of them compressed.
result_or_failure<std::vector<legacy_message>> decode_inner(byte_view set, const decode_limits& limits,
                                                            std::size_t& spent) {
  std::vector<legacy_message> out;
  detail::reader in(set);
  while (in.remaining() > 0) {
    detail::reader head(set.subspan(in.position()));
    head.i64();
    const auto size = head.i32();
    if (!head.ok() || size < 0 || static_cast<std::size_t>(size) > head.remaining())
      return fail(errc::malformed, "inner message " + std::to_string(out.size()) + " truncated");
    auto m = decode_message(in.take(12 + static_cast<std::size_t>(size)), limits, spent, true);
    if (!m) return std::move(m).error();
    out.push_back(std::move(m).value());
  }
  return out;
}

result_or_failure<legacy_message> decode_message(byte_view wire, const decode_limits& limits, std::size_t& spent,
                                                 bool inner) {
  detail::reader in(wire);
  legacy_message m;
  m.offset = in.i64();
  const auto size = in.i32();
  m.crc = in.u32();
  m.magic = in.i8();
  m.attributes = in.i8();
  const auto where = [&](const std::string& why) {
    return "legacy message at offset " + std::to_string(m.offset) + ": " + why;
  };
  if (!in.ok()) return fail(errc::malformed, where("shorter than its header"));
  if (m.magic != 0 && m.magic != 1)
    return fail(errc::unsupported_version, where("magic " + std::to_string(m.magic) + ", not 0 or 1"));
  if (size < (m.magic == 0 ? min_size_v0 : min_size_v1) || static_cast<std::size_t>(size) + 12 != wire.size())
    return fail(errc::malformed, where("message_size " + std::to_string(size) + " does not match its " +
                                       std::to_string(wire.size()) + " bytes"));
  const auto computed = crc32(wire.subspan(crc_end));
  if (computed != m.crc) return fail(errc::malformed, where("CRC-32 mismatch"));
  if (m.magic == 1) m.timestamp = in.i64();
  m.key = nullable_bytes(in);
  m.value = nullable_bytes(in);
  if (!in.ok() || in.remaining() != 0) return fail(errc::malformed, where("key and value do not fill the message"));
  const auto bits = static_cast<unsigned>(m.attributes & 0x07);
  if (bits == 0) return m;
  if (bits > 3) return fail(errc::not_supported, where("codec " + std::to_string(bits) + " in a legacy message"));
  if (inner) return fail(errc::malformed, where("a compressed message inside a compressed message"));
  if (!m.value) return fail(errc::malformed, where("a compressed message with a null value"));
  const auto budget = limits.max_decompressed_bytes > spent ? limits.max_decompressed_bytes - spent : 0;
  auto set = decompress(m.compression(), *m.value, budget);
  if (!set) return fail(set.error().code, where(set.error().message()));
  spent += set.value().size();
  auto messages = decode_inner(set.value(), limits, spent);
  if (!messages) return fail(messages.error().code, where(messages.error().message()));
  m.inner = std::move(messages).value();
  return m;
}

}  // namespace

result_or_failure<legacy_message> decode_legacy_message(byte_view wire, const decode_limits& limits,
                                                        std::size_t* spent) {
  std::size_t own_spent = 0;
  return decode_message(wire, limits, spent ? *spent : own_spent, false);
}

}  // namespace nodus::kafka::records
