#include <string>

#include "nodus/kafka/records/record_batch.hpp"
#include "records_codec.hpp"
#include "wire.hpp"

namespace nodus::kafka::records {

namespace {

// The smallest record: length, attributes, timestamp and offset deltas, key and value lengths
// and header count, one byte each. Bounds what a record count may reserve.
constexpr std::size_t min_record_size = 7;

// A length-prefixed field: -1 is null, anything else below 0 (or past the end) fails.
std::optional<bytes> nullable_bytes(detail::reader& in) {
  const auto length = in.varint();
  if (length == -1 || !in.ok()) return std::nullopt;
  if (length < 0) {
    in.fail();
    return std::nullopt;
  }
  const auto b = in.take(static_cast<std::size_t>(length));
  return bytes(b.begin(), b.end());
}

bool read_headers(detail::reader& in, std::vector<header>& headers) {
  const auto count = in.varint();
  if (!in.ok() || count < 0) return false;
  // Each header takes 2 bytes at least: never reserve more than the bytes left could hold.
  headers.reserve(std::min(static_cast<std::size_t>(count), in.remaining() / 2));
  for (std::int32_t i = 0; i < count && in.ok(); ++i) {
    header h;
    const auto key_length = in.varint();
    if (key_length < 0) return false;  // header keys are never null
    const auto key = in.take(static_cast<std::size_t>(key_length));
    h.key.assign(reinterpret_cast<const char*>(key.data()), key.size());
    h.value = nullable_bytes(in);
    headers.push_back(std::move(h));
  }
  return in.ok();
}

result_or_failure<record> decode_record(detail::reader& outer, std::size_t index) {
  const auto length = outer.varint();
  const auto fail_here = [&](const char* why) {
    return fail(errc::malformed, "record " + std::to_string(index) + ": " + why);
  };
  if (!outer.ok() || length < 0) return fail_here("bad length");
  const auto body = outer.take(static_cast<std::size_t>(length));
  if (!outer.ok()) return fail_here("length past the end of the batch");
  detail::reader in(body);
  record r;
  r.attributes = in.i8();
  r.timestamp_delta = in.varlong();
  r.offset_delta = in.varint();
  r.key = nullable_bytes(in);
  r.value = nullable_bytes(in);
  if (!in.ok() || !read_headers(in, r.headers)) return fail_here("fields do not fit its length");
  if (in.remaining() != 0) return fail_here("bytes left over after its headers");
  return r;
}

void write_nullable(detail::writer& w, const std::optional<bytes>& b) {
  if (!b) return w.varint(-1);
  w.varint(static_cast<std::int32_t>(b->size()));
  w.put(*b);
}

void encode_record(const record& r, bytes& out) {
  bytes body;
  detail::writer w(body);
  w.be(static_cast<std::uint8_t>(r.attributes), 1);
  w.varlong(r.timestamp_delta);
  w.varint(r.offset_delta);
  write_nullable(w, r.key);
  write_nullable(w, r.value);
  w.varint(static_cast<std::int32_t>(r.headers.size()));
  for (const auto& h : r.headers) {
    w.varint(static_cast<std::int32_t>(h.key.size()));
    w.put(as_bytes(h.key));
    write_nullable(w, h.value);
  }
  detail::writer o(out);
  o.varint(static_cast<std::int32_t>(body.size()));
  o.put(body);
}

}  // namespace

namespace detail {

result_or_failure<std::vector<record>> decode_records(byte_view plain, std::int32_t count) {
  if (count < 0) return fail(errc::malformed, "negative record count " + std::to_string(count));
  reader in(plain);
  std::vector<record> out;
  out.reserve(std::min(static_cast<std::size_t>(count), plain.size() / min_record_size));
  for (std::int32_t i = 0; i < count; ++i) {
    if (in.remaining() == 0)
      return fail(errc::malformed,
                  "record count " + std::to_string(count) + " but only " + std::to_string(i) + " records");
    auto r = decode_record(in, static_cast<std::size_t>(i));
    if (!r) return std::move(r).error();
    out.push_back(std::move(r).value());
  }
  if (in.remaining() != 0)
    return fail(errc::malformed,
                std::to_string(in.remaining()) + " bytes after the last of " + std::to_string(count) + " records");
  return out;
}

}  // namespace detail

bytes encode_records(const std::vector<record>& records) {
  bytes out;
  for (const auto& r : records) encode_record(r, out);
  return out;
}

}  // namespace nodus::kafka::records
