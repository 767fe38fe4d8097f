#include "nodus/kafka/records/record_batch.hpp"

#include <cinttypes>
#include <cstdio>
#include <string>
#include <tuple>

#include "nodus/kafka/records/crc.hpp"
#include "records_codec.hpp"
#include "wire.hpp"

namespace nodus::kafka::records {

namespace {

// batch_length counts the bytes after itself: the header from partition_leader_epoch on.
constexpr std::int32_t min_batch_length = static_cast<std::int32_t>(batch_header_size - 12);
constexpr std::size_t crc_offset = 17;
constexpr std::size_t attributes_offset = 21;

std::string hex32(std::uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08" PRIx32, v);
  return text;
}

struct batch_header {
  record_batch batch;
  std::int32_t batch_length = 0;
  std::int8_t magic = 0;
  std::int32_t record_count = 0;
};

batch_header read_header(detail::reader& in) {
  batch_header h;
  auto& b = h.batch;
  b.base_offset = in.i64();
  h.batch_length = in.i32();
  b.partition_leader_epoch = in.i32();
  h.magic = in.i8();
  b.crc = in.u32();
  b.attributes = in.i16();
  b.last_offset_delta = in.i32();
  b.base_timestamp = in.i64();
  b.max_timestamp = in.i64();
  b.producer_id = in.i64();
  b.producer_epoch = in.i16();
  b.base_sequence = in.i32();
  h.record_count = in.i32();
  return h;
}

// The records section, decompressed within what is left of the limit.
result_or_failure<bytes> plain_records(codec c, byte_view payload, const decode_limits& limits, std::size_t& spent) {
  if (c == codec::none) return bytes{};
  const auto budget = limits.max_decompressed_bytes > spent ? limits.max_decompressed_bytes - spent : 0;
  auto plain = decompress(c, payload, budget);
  if (!plain) {
    auto f = std::move(plain).error();
    if (f.code == errc::too_large)
      f.reason = std::string(name(c)) + " records decompress to more than the limit of " +
                 std::to_string(limits.max_decompressed_bytes) + " bytes";
    return outcome::failure(std::move(f));
  }
  spent += plain.value().size();
  return plain;
}

result_or_failure<record_batch> decode_body(batch_header h, byte_view payload, const decode_limits& limits,
                                            std::size_t& spent) {
  auto c = codec_from_bits(static_cast<unsigned>(h.batch.attributes & attribute::codec_mask));
  if (!c) return std::move(c).error();
  auto wire = std::make_shared<batch_wire>();
  wire->payload.assign(payload.begin(), payload.end());
  wire->compression = c.value();
  wire->framing = is_xerial_framed(payload) ? snappy_framing::xerial : snappy_framing::raw;
  wire->record_count = h.record_count;
  if (c.value() != codec::none && !limits.decompress) {
    wire->records_decoded = false;
    h.batch.wire = std::move(wire);
    return std::move(h.batch);
  }
  auto plain = plain_records(c.value(), payload, limits, spent);
  if (!plain) return std::move(plain).error();
  wire->plain = std::move(plain).value();
  auto records = detail::decode_records(c.value() == codec::none ? payload : byte_view(wire->plain), h.record_count);
  if (!records) return std::move(records).error();
  h.batch.records = std::move(records).value();
  h.batch.wire = std::move(wire);
  return std::move(h.batch);
}

// The payload `encode` writes: the decoded one while nothing it depends on changed.
result_or_failure<bytes> payload_of(const record_batch& batch, codec c) {
  const auto& wire = batch.wire;
  if (wire && !wire->records_decoded) return wire->payload;
  auto plain = encode_records(batch.records);
  if (wire && wire->compression == c) {
    const auto& decoded = c == codec::none ? wire->payload : wire->plain;
    if (plain == decoded) return wire->payload;
  }
  if (c == codec::none) return plain;
  return compress(c, plain, wire ? wire->framing : snappy_framing::xerial);
}

}  // namespace

codec record_batch::compression() const noexcept {
  const auto bits = static_cast<unsigned>(attributes & attribute::codec_mask);
  return bits <= 4 ? static_cast<codec>(bits) : codec::none;
}

void record_batch::set_compression(codec c) noexcept {
  attributes = static_cast<std::int16_t>((attributes & ~attribute::codec_mask) | static_cast<std::int16_t>(c));
}

std::int32_t record_batch::record_count() const noexcept {
  if (wire && !wire->records_decoded) return wire->record_count;
  return static_cast<std::int32_t>(records.size());
}

bool operator==(const record_batch& a, const record_batch& b) {
  const auto fields = [](const record_batch& x) {
    return std::tie(x.base_offset, x.partition_leader_epoch, x.attributes, x.last_offset_delta, x.base_timestamp,
                    x.max_timestamp, x.producer_id, x.producer_epoch, x.base_sequence, x.records);
  };
  if (fields(a) != fields(b) || a.record_count() != b.record_count()) return false;
  // Batches whose records were not decompressed compare by their payloads.
  const bool a_raw = a.wire && !a.wire->records_decoded;
  const bool b_raw = b.wire && !b.wire->records_decoded;
  return a_raw == b_raw && (!a_raw || a.wire->payload == b.wire->payload);
}

result_or_failure<record_batch> decode_batch(byte_view wire, const decode_limits& limits, std::size_t* spent) {
  std::size_t own_spent = 0;
  if (!spent) spent = &own_spent;
  detail::reader in(wire);
  auto h = read_header(in);
  const auto where = [&](const std::string& why) {
    return "record batch at offset " + std::to_string(h.batch.base_offset) + ": " + why;
  };
  if (!in.ok()) return fail(errc::malformed, where("shorter than its 61-byte header"));
  if (h.magic != 2) return fail(errc::unsupported_version, where("magic " + std::to_string(h.magic) + ", not 2"));
  if (h.batch_length < min_batch_length || static_cast<std::size_t>(h.batch_length) + 12 != wire.size())
    return fail(errc::malformed, where("batch_length " + std::to_string(h.batch_length) + " does not match its " +
                                       std::to_string(wire.size()) + " bytes"));
  const auto computed = crc32c(wire.subspan(attributes_offset));
  if (computed != h.batch.crc)
    return fail(errc::malformed,
                where("CRC-32C mismatch: stored " + hex32(h.batch.crc) + ", computed " + hex32(computed)));
  auto batch = decode_body(std::move(h), wire.subspan(batch_header_size), limits, *spent);
  if (!batch) return fail(batch.error().code, where(batch.error().message()));
  return batch;
}

result_or_failure<bytes> encode(const record_batch& batch) {
  auto c = codec_from_bits(static_cast<unsigned>(batch.attributes & attribute::codec_mask));
  if (!c) return std::move(c).error();
  auto payload = payload_of(batch, c.value());
  if (!payload) return std::move(payload).error();
  bytes out;
  out.reserve(batch_header_size + payload.value().size());
  detail::writer w(out);
  w.be(static_cast<std::uint64_t>(batch.base_offset), 8);
  w.be(batch_header_size - 12 + payload.value().size(), 4);
  w.be(static_cast<std::uint32_t>(batch.partition_leader_epoch), 4);
  w.be(2, 1);
  w.be(0, 4);  // the CRC, written below once the bytes it covers are
  w.be(static_cast<std::uint16_t>(batch.attributes), 2);
  w.be(static_cast<std::uint32_t>(batch.last_offset_delta), 4);
  w.be(static_cast<std::uint64_t>(batch.base_timestamp), 8);
  w.be(static_cast<std::uint64_t>(batch.max_timestamp), 8);
  w.be(static_cast<std::uint64_t>(batch.producer_id), 8);
  w.be(static_cast<std::uint16_t>(batch.producer_epoch), 2);
  w.be(static_cast<std::uint32_t>(batch.base_sequence), 4);
  w.be(static_cast<std::uint32_t>(batch.record_count()), 4);
  w.put(payload.value());
  const auto crc = crc32c(byte_view(out).subspan(attributes_offset));
  for (std::size_t i = 0; i < 4; ++i) out[crc_offset + i] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
  return out;
}

}  // namespace nodus::kafka::records
