#include "nodus/kafka/records/compression.hpp"

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <climits>
#include <iterator>
#include <memory>

#include "bounded_output.hpp"
#include "codecs.hpp"

namespace nodus::kafka::records {

namespace {

using detail::bounded_output;
using detail::corrupt;
using detail::finish;
using detail::too_large;

// zlib counts in uInt: feed it at most this much input at a time.
constexpr std::size_t zlib_piece = 1u << 30;

// The largest zstd window a frame may ask for: zstd allocates the window before it writes a byte,
// so the frame header alone could otherwise ask for 2 GiB. librdkafka's streaming frames declare
// 2 MiB (log 21) whatever their size, so that much is always allowed; beyond it, no more than the
// output may hold, and 8 MiB at most.
constexpr int zstd_window_log_floor = 21;
constexpr int zstd_window_log_max = 23;

int zstd_window_log(std::size_t max_output) {
  int log = zstd_window_log_floor;
  while (log < zstd_window_log_max && (std::size_t{1} << log) < max_output) ++log;
  return log;
}

// lz4 frames: liblz4 allocates a frame's block size (up to 4 MiB, from its header) before any
// output. Blocks larger than 64 KiB (Kafka's and librdkafka's size) are accepted only when the
// output may hold one.
constexpr std::size_t lz4_small_block = 64 * 1024;

bool lz4_block_size_fits(byte_view frame, std::size_t max_output) {
  constexpr std::uint8_t magic[] = {0x04, 0x22, 0x4d, 0x18};
  if (frame.size() < 6 || !std::equal(std::begin(magic), std::end(magic), frame.begin())) return true;
  const unsigned id = (frame[5] >> 4) & 0x07;
  if (id < 4) return true;  // not a valid size: liblz4 refuses it
  const std::size_t block = std::size_t{1} << (8 + 2 * id);
  return block <= std::max(lz4_small_block, max_output);
}

bool is_gzip_member(byte_view data) { return data.size() >= 2 && data[0] == 0x1f && data[1] == 0x8b; }

result_or_failure<bytes> gunzip(byte_view data, std::size_t max_output) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return corrupt("gzip", "zlib would not start");
  const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  bounded_output out(max_output);
  z.next_in = const_cast<Bytef*>(data.data());
  std::size_t left = data.size();
  for (;;) {
    if (!out.grow()) return too_large("gzip", max_output);
    const auto in_piece = std::min(left, zlib_piece);
    z.avail_in = static_cast<uInt>(in_piece);
    z.next_out = out.next();
    z.avail_out = static_cast<uInt>(std::min(out.room(), zlib_piece));
    const auto out_before = z.avail_out;
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.commit(out_before - z.avail_out);
    left -= in_piece - z.avail_in;
    if (rc == Z_STREAM_END) {
      // Several gzip members one after the other decompress to their concatenation (as Java's
      // GZIPInputStream reads them); anything else after the end is refused.
      if (left == 0) return finish("gzip", std::move(out), max_output);
      if (!is_gzip_member(byte_view(z.next_in, left))) return corrupt("gzip", "bytes after the end of the stream");
      if (inflateReset(&z) != Z_OK) return corrupt("gzip", "zlib would not restart");
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_out > 0) return corrupt("gzip", "truncated");
    if (rc != Z_OK && rc != Z_BUF_ERROR) return corrupt("gzip", z.msg ? z.msg : "corrupt");
  }
}

result_or_failure<bytes> gzip(byte_view data) {
  z_stream z{};
  // 15 + 16: a gzip header and trailer rather than zlib's, as Kafka's GZIPOutputStream writes.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return failure{errc::malformed, "gzip: zlib would not start"};
  const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
  bytes out(deflateBound(&z, static_cast<uLong>(data.size())) + 64);
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (data.size() > zlib_piece || deflate(&z, Z_FINISH) != Z_STREAM_END)
    return failure{errc::too_large, "gzip: input too large to compress at once"};
  out.resize(z.total_out);
  return out;
}

using lz4_dctx = std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)>;

result_or_failure<bytes> unlz4(byte_view data, std::size_t max_output) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) return corrupt("lz4", "no context");
  const lz4_dctx ctx(raw, LZ4F_freeDecompressionContext);
  bounded_output out(max_output);
  std::size_t at = 0;
  std::size_t hint = 1;
  // Several frames one after the other decompress to their concatenation; a frame cut short
  // (input exhausted with the frame unfinished) is refused.
  while (at < data.size()) {
    if (!out.grow()) return too_large("lz4", max_output);
    if (hint == 0 || at == 0) {  // at the start of a frame
      if (!lz4_block_size_fits(data.subspan(at), max_output)) return too_large("lz4", max_output);
    }
    std::size_t in_size = data.size() - at;
    std::size_t out_size = out.room();
    hint = LZ4F_decompress(ctx.get(), out.next(), &out_size, data.data() + at, &in_size, nullptr);
    if (LZ4F_isError(hint)) return corrupt("lz4", LZ4F_getErrorName(hint));
    at += in_size;
    out.commit(out_size);
    if (in_size == 0 && out_size == 0) return corrupt("lz4", "no progress");
  }
  // The decoder may still hold decoded bytes that did not fit the last output chunk.
  while (hint != 0) {
    if (!out.grow()) return too_large("lz4", max_output);
    std::size_t in_size = 0;
    std::size_t out_size = out.room();
    hint = LZ4F_decompress(ctx.get(), out.next(), &out_size, nullptr, &in_size, nullptr);
    if (LZ4F_isError(hint)) return corrupt("lz4", LZ4F_getErrorName(hint));
    out.commit(out_size);
    if (out_size == 0 && hint != 0) return corrupt("lz4", "truncated frame");
  }
  return finish("lz4", std::move(out), max_output);
}

result_or_failure<bytes> lz4(byte_view data) {
  LZ4F_preferences_t prefs{};
  // 64 KiB independent blocks, as Kafka's KafkaLZ4BlockOutputStream writes them.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  bytes out(LZ4F_compressFrameBound(data.size(), &prefs));
  const auto n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  if (LZ4F_isError(n)) return failure{errc::malformed, std::string("lz4: ") + LZ4F_getErrorName(n)};
  out.resize(n);
  return out;
}

using zstd_dctx = std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)>;

result_or_failure<bytes> unzstd(byte_view data, std::size_t max_output) {
  const zstd_dctx ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) return corrupt("zstd", "no context");
  ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, zstd_window_log(max_output));
  bounded_output out(max_output);
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::size_t hint = 1;
  while (in.pos < in.size || hint != 0) {
    if (!out.grow()) return too_large("zstd", max_output);
    ZSTD_outBuffer o{out.next(), out.room(), 0};
    const auto before = in.pos;
    hint = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge)
      return failure{errc::too_large, "zstd frame asks for a window over the limit of " +
                                          std::to_string(std::size_t{1} << zstd_window_log(max_output)) + " bytes"};
    if (ZSTD_isError(hint)) return corrupt("zstd", ZSTD_getErrorName(hint));
    out.commit(o.pos);
    if (o.pos == 0 && in.pos == before) return corrupt("zstd", "truncated frame");
  }
  return finish("zstd", std::move(out), max_output);
}

result_or_failure<bytes> zstd(byte_view data) {
  bytes out(ZSTD_compressBound(data.size()));
  const auto n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n)) return failure{errc::malformed, std::string("zstd: ") + ZSTD_getErrorName(n)};
  out.resize(n);
  return out;
}

}  // namespace

std::string_view name(codec c) noexcept {
  switch (c) {
    case codec::none: return "none";
    case codec::gzip: return "gzip";
    case codec::snappy: return "snappy";
    case codec::lz4: return "lz4";
    case codec::zstd: return "zstd";
  }
  return "unknown";
}

result_or_failure<codec> codec_from_bits(unsigned bits) {
  if (bits > 4) return failure{errc::not_supported, "unknown compression codec " + std::to_string(bits)};
  return static_cast<codec>(bits);
}

result_or_failure<bytes> decompress(codec c, byte_view data, std::size_t max_output) {
  switch (c) {
    case codec::none:
      if (data.size() > max_output) return too_large("uncompressed", max_output);
      return bytes(data.begin(), data.end());
    case codec::gzip: return gunzip(data, max_output);
    case codec::snappy: return detail::unsnappy(data, max_output);
    case codec::lz4: return unlz4(data, max_output);
    case codec::zstd: return unzstd(data, max_output);
  }
  return failure{errc::not_supported, "unknown compression codec"};
}

result_or_failure<bytes> compress(codec c, byte_view data, snappy_framing framing) {
  switch (c) {
    case codec::none: return bytes(data.begin(), data.end());
    case codec::gzip: return gzip(data);
    case codec::snappy: return detail::snappy(data, framing);
    case codec::lz4: return lz4(data);
    case codec::zstd: return zstd(data);
  }
  return failure{errc::not_supported, "unknown compression codec"};
}

}  // namespace nodus::kafka::records
