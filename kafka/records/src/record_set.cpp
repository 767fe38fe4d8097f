#include "nodus/kafka/records/record_set.hpp"

#include <string>

#include "wire.hpp"

namespace nodus::kafka::records {

namespace {

// Every entry starts with [offset int64, length int32] and has its magic at byte 16.
constexpr std::size_t entry_head_size = 12;
constexpr std::int32_t min_length_for_magic = static_cast<std::int32_t>(magic_offset + 1 - entry_head_size);

result_or_failure<record_set_entry> decode_entry(byte_view whole, const decode_limits& limits, std::size_t& spent) {
  const auto magic = static_cast<std::int8_t>(whole[magic_offset]);
  if (magic == 2) {
    auto batch = decode_batch(whole, limits, &spent);
    if (!batch) return std::move(batch).error();
    return record_set_entry{std::move(batch).value()};
  }
  if (magic == 0 || magic == 1) {
    auto message = decode_legacy_message(whole, limits, &spent);
    if (!message) return std::move(message).error();
    return record_set_entry{legacy_entry{std::move(message).value(), bytes(whole.begin(), whole.end())}};
  }
  return fail(errc::unsupported_version, "unknown magic " + std::to_string(magic));
}

struct encoder {
  bytes& out;

  result_or_failure<void> operator()(const record_batch& b) const {
    auto encoded = encode(b);
    if (!encoded) return std::move(encoded).error();
    out.insert(out.end(), encoded.value().begin(), encoded.value().end());
    return outcome::success();
  }
  result_or_failure<void> operator()(const legacy_entry& e) const { return put(e.raw); }
  result_or_failure<void> operator()(const truncated_tail& t) const { return put(t.raw); }
  result_or_failure<void> put(const bytes& raw) const {
    out.insert(out.end(), raw.begin(), raw.end());
    return outcome::success();
  }
};

}  // namespace

result_or_failure<record_set> decode_record_set(byte_view wire, const decode_limits& limits) {
  record_set set;
  std::size_t spent = 0;
  std::size_t at = 0;
  while (at < wire.size()) {
    const auto rest = wire.subspan(at);
    detail::reader head(rest);
    head.i64();
    const auto length = head.i32();
    // A fetch response may end part way through a batch: keep what there is, as it is.
    if (!head.ok() || (length >= 0 && static_cast<std::size_t>(length) > head.remaining())) {
      set.entries.emplace_back(truncated_tail{bytes(rest.begin(), rest.end())});
      break;
    }
    const auto where = "records at byte " + std::to_string(at) + ": ";
    if (length < min_length_for_magic)
      return fail(errc::malformed, where + "entry length " + std::to_string(length) + " too small");
    const auto size = entry_head_size + static_cast<std::size_t>(length);
    auto entry = decode_entry(rest.first(size), limits, spent);
    if (!entry) return fail(entry.error().code, where + entry.error().message());
    set.entries.push_back(std::move(entry).value());
    at += size;
  }
  return set;
}

result_or_failure<bytes> encode(const record_set& set) {
  bytes out;
  const encoder write{out};
  for (const auto& entry : set.entries) {
    auto written = std::visit(write, entry);
    if (!written) return std::move(written).error();
  }
  return out;
}

}  // namespace nodus::kafka::records
