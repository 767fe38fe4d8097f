// Fuzzes the decoder of Kafka's `records` fields (kafka/records): `decode_record_set`, which
// reads the batches of Produce requests and Fetch responses (RecordBatch v2 with any codec,
// legacy message sets, a truncated tail), and through it `decode_batch`,
// `decode_legacy_message`, the varints, the CRCs and the four decompressors.
//
// Input: one config byte, then the record set. Config bits 0-1 pick the decompression limit
// (0, 1 KiB, 16 KiB, 256 KiB); bit 2 turns decompression off; bit 3 makes the target write the
// right CRC into every whole entry before decoding, so that mutations reach the records and the
// codecs rather than stopping at the CRC check.
//
// Properties: no crash, no sanitizer report, no allocation out of proportion to the input and
// the limit; errors have one of the decoder's codes and a reason; a decoded set encodes, and
// the encoding decodes (with the same limits) to the same set, whose encoding is the same bytes.
// The corpus (corpus/kafka_records) is the batches of tests/kafka_records/vectors, each behind a
// config byte of 2 (16 KiB, decompressing), plus a few record sets of several entries.

#include <array>
#include <optional>

#include "fuzz_support.hpp"
#include "nodus/kafka/records/crc.hpp"
#include "nodus/kafka/records/record_set.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

namespace {

constexpr std::array<std::size_t, 4> limits = {0, 1024, 16 * 1024, 256 * 1024};

bool expected_error(const failure& f) {
  const bool known = f.code == errc::malformed || f.code == errc::too_large || f.code == errc::unsupported_version ||
                     f.code == errc::not_supported;
  return known && !f.reason.empty();
}

// What decoding may allocate at once: the decompressed bytes (a vector that may double), the
// records and headers parsed from them or from the input (tens of bytes of struct per byte),
// and the codecs' own state (a zstd window of 2 MiB, which librdkafka's frames declare whatever
// their size, lz4 blocks sized to the limit, zlib's window).
std::size_t allocation_limit(std::size_t input, std::size_t max_decompressed) {
  return 64 * (input + max_decompressed) + 4 * 1024 * 1024;
}

void put_be32(std::uint8_t* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * (3 - i)));
}

// The CRC of every whole entry set right: CRC-32C from byte 21 at byte 17 for v2 batches, CRC-32
// from byte 16 at byte 12 for legacy messages.
void fix_crcs(bytes& set) {
  std::size_t at = 0;
  while (set.size() - at >= 17) {
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length = (length << 8) | set[at + 8 + static_cast<std::size_t>(i)];
    if (length > set.size() - at - 12 || length < 9) return;
    const auto end = at + 12 + length;
    const auto entry = byte_view(set).subspan(at, end - at);
    if (set[at + 16] == 2 && entry.size() >= 21) put_be32(&set[at + 17], crc32c(entry.subspan(21)));
    if (set[at + 16] < 2) put_be32(&set[at + 12], crc32(entry.subspan(16)));
    at = end;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const auto config = in.u8();
  const decode_limits decode_with{.max_decompressed_bytes = limits[config & 3], .decompress = (config & 4) == 0};
  const auto rest = in.rest();
  bytes fixed(rest.begin(), rest.end());
  if ((config & 8) != 0) fix_crcs(fixed);
  const byte_view wire(fixed);

  std::optional<result_or_failure<record_set>> decoded;
  {
    fuzz::allocation_watch watch;
    decoded.emplace(decode_record_set(wire, decode_with));
    watch.check(allocation_limit(wire.size(), decode_with.max_decompressed_bytes));
  }
  if (!*decoded) {
    NODUS_FUZZ_CHECK(expected_error(decoded->error()));
    return 0;
  }
  const auto encoded = encode(decoded->value());
  NODUS_FUZZ_CHECK(encoded);
  const auto again = decode_record_set(encoded.value(), decode_with);
  NODUS_FUZZ_CHECK(again);
  NODUS_FUZZ_CHECK(again.value() == decoded->value());
  const auto encoded_again = encode(again.value());
  NODUS_FUZZ_CHECK(encoded_again && encoded_again.value() == encoded.value());
  return 0;
}
