#pragma once
/// The codecs of compressed Kafka record batches and legacy wrapper messages, through Debian's
/// libraries: gzip (zlib), snappy (libsnappy; raw, or in the xerial framing that the Java client
/// writes), lz4 (liblz4's frame format) and zstd (libzstd).
///
/// Decompression is bounded: it stops and fails with `errc::too_large` as soon as the output
/// would pass `max_output` bytes, and never allocates from a length field more than the input
/// could produce. Any bytes give a value or an error, never a crash.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::kafka::records {

/// The codec of a batch: bits 0-2 of its attributes.
enum class codec : std::uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

/// How snappy data is framed. Kafka's Java client (and librdkafka reading) use xerial's
/// snappy-java stream format: magic `82 'SNAPPY' 00`, version and compatible version (int32),
/// then blocks of [int32 length, raw snappy]. librdkafka writes raw snappy.
enum class snappy_framing : std::uint8_t { raw, xerial };

/// The codec's name as Kafka spells it (`none`, `gzip`, `snappy`, `lz4`, `zstd`).
std::string_view name(codec c) noexcept;

/// The codec numbered `bits` (0-4), or `errc::not_supported` for 5-7.
result_or_failure<codec> codec_from_bits(unsigned bits);

/// Whether `data` starts with the xerial framing's magic.
bool is_xerial_framed(byte_view data) noexcept;

/// `data` decompressed with `c` (snappy: either framing, recognised by its magic). Errors:
/// `errc::too_large` when the output would pass `max_output` bytes (a decompression bomb),
/// `errc::malformed` for data the codec refuses (corrupt, truncated, trailing bytes).
result_or_failure<bytes> decompress(codec c, byte_view data, std::size_t max_output);

/// `data` compressed with `c` (`codec::none` copies it). Snappy in the given framing.
result_or_failure<bytes> compress(codec c, byte_view data, snappy_framing framing = snappy_framing::xerial);

}  // namespace nodus::kafka::records
