#include "nodus/kafka/records/compression.hpp"

#include <doctest/doctest.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <array>

#include "nodus/kafka/records/crc.hpp"
#include "nodus/kafka/records/record_batch.hpp"
#include "vectors.hpp"

using namespace nodus;
using namespace nodus::kafka::records;

namespace {

std::uint32_t crc32c_of_batch(byte_view wire) { return crc32c(wire.subspan(21)); }

constexpr std::array<codec, 4> codecs = {codec::gzip, codec::snappy, codec::lz4, codec::zstd};

nodus::bytes sample_data(std::size_t n) {
  nodus::bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((i * i / 7) % 251);
  return out;
}

// `total` zero bytes compressed in pieces, as a bomb's maker would: the input is small, what it
// decompresses to is not. Written with the libraries directly, not with the code under test.
nodus::bytes bomb(codec c, std::size_t total) {
  const nodus::bytes zeros(1024 * 1024, 0);
  nodus::bytes out;
  if (c == codec::gzip) {
    z_stream z{};
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    std::array<std::uint8_t, 65536> buffer;
    for (std::size_t done = 0; done <= total; done += zeros.size()) {
      const bool last = done == total;
      z.next_in = const_cast<Bytef*>(zeros.data());
      z.avail_in = last ? 0 : static_cast<uInt>(zeros.size());
      do {
        z.next_out = buffer.data();
        z.avail_out = buffer.size();
        deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
        out.insert(out.end(), buffer.data(), buffer.data() + (buffer.size() - z.avail_out));
      } while (z.avail_out == 0);
    }
    deflateEnd(&z);
  } else if (c == codec::zstd) {
    ZSTD_CCtx* ctx = ZSTD_createCCtx();
    std::array<std::uint8_t, 65536> buffer;
    for (std::size_t done = 0; done <= total; done += zeros.size()) {
      const bool last = done == total;
      ZSTD_inBuffer in{zeros.data(), last ? 0 : zeros.size(), 0};
      std::size_t left = 0;
      do {
        ZSTD_outBuffer o{buffer.data(), buffer.size(), 0};
        left = ZSTD_compressStream2(ctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        out.insert(out.end(), buffer.data(), buffer.data() + o.pos);
      } while (in.pos < in.size || (last && left != 0));
    }
    ZSTD_freeCCtx(ctx);
  } else if (c == codec::lz4) {
    LZ4F_cctx* ctx = nullptr;
    LZ4F_createCompressionContext(&ctx, LZ4F_VERSION);
    nodus::bytes buffer(LZ4F_compressBound(zeros.size(), nullptr) + 64);
    out.insert(out.end(), buffer.data(),
               buffer.data() + LZ4F_compressBegin(ctx, buffer.data(), buffer.size(), nullptr));
    for (std::size_t done = 0; done < total; done += zeros.size()) {
      const auto n = LZ4F_compressUpdate(ctx, buffer.data(), buffer.size(), zeros.data(), zeros.size(), nullptr);
      out.insert(out.end(), buffer.data(), buffer.data() + n);
    }
    out.insert(out.end(), buffer.data(), buffer.data() + LZ4F_compressEnd(ctx, buffer.data(), buffer.size(), nullptr));
    LZ4F_freeCompressionContext(ctx);
  } else {
    // xerial framing: the same 32 KiB block of zeros again and again.
    std::string block;
    ::snappy::Compress(reinterpret_cast<const char*>(zeros.data()), 32 * 1024, &block);
    out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    for (std::size_t done = 0; done < total; done += 32 * 1024) {
      const auto n = static_cast<std::uint32_t>(block.size());
      out.insert(out.end(), {std::uint8_t(n >> 24), std::uint8_t(n >> 16), std::uint8_t(n >> 8), std::uint8_t(n)});
      out.insert(out.end(), block.begin(), block.end());
    }
  }
  return out;
}

record_batch batch_of(codec c, std::size_t records) {
  record_batch b;
  b.set_compression(c);
  for (std::size_t i = 0; i < records; ++i)
    b.records.push_back({.offset_delta = static_cast<std::int32_t>(i),
                         .key = test::text("key-" + std::to_string(i)),
                         .value = sample_data(100 + i),
                         .headers = {{"n", test::text(std::to_string(i))}}});
  b.last_offset_delta = static_cast<std::int32_t>(records) - 1;
  return b;
}

}  // namespace

TEST_CASE("every codec round-trips data of every size through the library") {
  for (const auto c : codecs) {
    for (const std::size_t n : {0, 1, 100, 32 * 1024, 32 * 1024 + 1, 300 * 1024}) {
      CAPTURE(name(c));
      CAPTURE(n);
      const auto data = sample_data(n);
      const auto packed = compress(c, data);
      REQUIRE(packed);
      const auto unpacked = decompress(c, packed.value(), n);
      REQUIRE_MESSAGE(unpacked, (unpacked ? "" : unpacked.error().message()));
      CHECK(unpacked.value() == data);
      if (n > 0) CHECK(decompress(c, packed.value(), n - 1).error().code == errc::too_large);
    }
  }
  const auto data = sample_data(70000);
  const auto raw = compress(codec::snappy, data, snappy_framing::raw).value();
  CHECK_FALSE(is_xerial_framed(raw));
  CHECK(is_xerial_framed(compress(codec::snappy, data, snappy_framing::xerial).value()));
  CHECK(decompress(codec::snappy, raw, data.size()).value() == data);
}

TEST_CASE("decompression bombs are refused once the output passes the limit") {
  constexpr std::size_t total = 100 * 1024 * 1024;
  for (const auto c : codecs) {
    CAPTURE(name(c));
    const auto input = bomb(c, total);
    MESSAGE(name(c) << " bomb: " << input.size() << " bytes that decompress to " << total);
    const auto out = decompress(c, input, 64 * 1024 * 1024);
    REQUIRE_FALSE(out);
    CHECK(out.error().code == errc::too_large);
    CHECK(out.error().message().find("limit of 67108864 bytes") != std::string::npos);
    // Within a batch, with the default limit of decode_batch.
    record_batch b;
    b.set_compression(c);
    auto wire = encode(b).value();
    wire.resize(batch_header_size);
    wire.insert(wire.end(), input.begin(), input.end());
    wire[60] = 1;  // one record
    const auto length = static_cast<std::uint32_t>(wire.size() - 12);
    for (std::size_t i = 0; i < 4; ++i) wire[8 + i] = static_cast<std::uint8_t>(length >> (8 * (3 - i)));
    const auto crc = crc32c_of_batch(wire);
    for (std::size_t i = 0; i < 4; ++i) wire[17 + i] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
    const auto batch = decode_batch(wire);
    REQUIRE_FALSE(batch);
    CHECK(batch.error().code == errc::too_large);
    CHECK(batch.error().message().find("records decompress to more than the limit") != std::string::npos);
  }
}

TEST_CASE("a snappy block claiming far more than its bytes could hold is refused before allocating") {
  // A raw snappy block whose length varint says 60 MiB, followed by 3 bytes.
  const nodus::bytes claim{0x80, 0x80, 0x80, 0x1e, 0x00, 0x01, 0x02};
  const auto out = decompress(codec::snappy, claim, 64 * 1024 * 1024);
  REQUIRE_FALSE(out);
  CHECK(out.error().code == errc::malformed);
}

TEST_CASE("every prefix of compressed data, and garbage, gives an error, never a crash") {
  const auto data = sample_data(5000);
  for (const auto c : codecs) {
    for (const auto framing : {snappy_framing::raw, snappy_framing::xerial}) {
      const auto packed = compress(c, data, framing).value();
      for (std::size_t n = 0; n < packed.size(); ++n) {
        const auto out = decompress(c, byte_view(packed).first(n), data.size());
        // A prefix either fails or, for a stream cut at a block boundary, gives less data.
        if (out) CHECK(out.value().size() < data.size());
      }
    }
    const auto garbage = sample_data(300);
    CHECK_FALSE(decompress(c, garbage, 1 << 20));
  }
}

TEST_CASE("the vector files' compressed batches decode, re-encode byte for byte, and re-compress when changed") {
  const auto file = test::load_vectors("rskafka_record_batches.json");
  // What rskafka's tests assert for the lz4 and zstd batches, which the file leaves undecoded.
  const record expected{
      .key = nodus::bytes(100, 'x'), .value = test::text("hello kafka"), .headers = {{"foo", test::text("bar")}}};
  std::size_t checked = 0;
  for (const auto& e : file.at("batches")) {
    const auto& d = e.at("decoded");
    if (d.at("compression") == "none") continue;
    CAPTURE(e.at("name").get<std::string>());
    const auto wire = test::from_hex(e.at("hex").get<std::string>());
    const auto decoded = decode_batch(wire);
    REQUIRE_MESSAGE(decoded, (decoded ? "" : decoded.error().message()));
    const auto& batch = decoded.value();
    CHECK(name(batch.compression()) == d.at("compression").get<std::string>());
    REQUIRE(batch.records.size() == d.at("record_count").get<std::size_t>());
    if (d.at("records").empty()) {
      CHECK(batch.records[0] == expected);
    } else {
      for (std::size_t i = 0; i < batch.records.size(); ++i)
        CHECK(batch.records[i] == test::described_record(d.at("records")[i]));
    }
    CHECK(test::to_hex(encode(batch).value()) == test::to_hex(wire));

    auto changed = batch;
    changed.records[0].value = test::text("a changed value");
    const auto rewired = encode(changed).value();
    const auto again = decode_batch(rewired);
    REQUIRE_MESSAGE(again, (again ? "" : again.error().message()));
    CHECK(again.value().compression() == batch.compression());
    CHECK(again.value() == changed);
    CHECK(again.value().records[0].value == test::text("a changed value"));
    // snappy keeps the framing it came in: xerial from the Java client, raw from librdkafka.
    CHECK(is_xerial_framed(byte_view(rewired).subspan(batch_header_size)) ==
          is_xerial_framed(byte_view(wire).subspan(batch_header_size)));
    ++checked;
  }
  CHECK(checked == 5);
}

TEST_CASE("every codec round-trips a batch of records") {
  for (const auto c : codecs) {
    CAPTURE(name(c));
    const auto original = batch_of(c, 50);
    const auto wire = encode(original).value();
    CHECK(wire.size() < encode(batch_of(codec::none, 50)).value().size());
    const auto decoded = decode_batch(wire);
    REQUIRE(decoded);
    CHECK(decoded.value() == original);
    CHECK(encode(decoded.value()).value() == wire);
    // A smaller limit than the records need refuses the batch.
    CHECK(decode_batch(wire, {.max_decompressed_bytes = 1000}).error().code == errc::too_large);
  }
}

TEST_CASE("without decompression a compressed batch keeps its payload and re-encodes unchanged") {
  const auto wire = encode(batch_of(codec::zstd, 10)).value();
  const auto decoded = decode_batch(wire, {.decompress = false});
  REQUIRE(decoded);
  CHECK(decoded.value().records.empty());
  CHECK(decoded.value().record_count() == 10);
  CHECK(encode(decoded.value()).value() == wire);
}

TEST_CASE("a corrupt compressed payload under a right CRC is refused, naming the codec") {
  auto b = batch_of(codec::gzip, 3);
  auto wire = encode(b).value();
  wire[batch_header_size + 12] ^= 0xff;
  const auto crc = crc32c_of_batch(wire);
  for (std::size_t i = 0; i < 4; ++i) wire[17 + i] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
  const auto batch = decode_batch(wire);
  REQUIRE_FALSE(batch);
  CHECK(batch.error().message().find("gzip") != std::string::npos);
}

TEST_CASE("frames asking for more codec memory than the output limit calls for are refused") {
  // An lz4 frame with 4 MiB blocks (block size id 7), and zstd frames with large windows.
  const auto data = sample_data(200000);
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max4MB;
  nodus::bytes lz4(LZ4F_compressFrameBound(data.size(), &prefs));
  lz4.resize(LZ4F_compressFrame(lz4.data(), lz4.size(), data.data(), data.size(), &prefs));
  CHECK(decompress(codec::lz4, lz4, 100000).error().code == errc::too_large);
  CHECK(decompress(codec::lz4, lz4, 8 * 1024 * 1024).value() == data);

  // zstd frame: magic, no content size, window descriptor 0x80 (64 MiB), one raw last block "a".
  const nodus::bytes zstd{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x80, 0x09, 0x00, 0x00, 'a'};
  const auto refused = decompress(codec::zstd, zstd, 100000);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::too_large);
  CHECK(refused.error().message().find("zstd frame asks for a window") != std::string::npos);
  CHECK(decompress(codec::zstd, zstd, 64 * 1024 * 1024).error().code == errc::too_large);
  // The same frame with a 2 MiB window (descriptor 0x58, as librdkafka writes) is read.
  auto small_window = zstd;
  small_window[5] = 0x58;
  CHECK(decompress(codec::zstd, small_window, 100).value() == test::text("a"));
}
