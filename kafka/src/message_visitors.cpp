#include "message_visitors.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace nodus::kafka {

std::string uuid::to_string() const {
  const auto hex = detail::to_hex(bytes);
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                     hex.substr(20));
}

bool uuid::is_zero() const noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

namespace detail {

std::string to_hex(byte_view data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(data.size() * 2);
  for (auto b : data) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

// The fixed part of the budget lets small inputs decode to their (larger) structs.
decoder::decoder(byte_view input, std::int16_t version, const decode_limits& limits)
    : in_(input), end_(input.size()), version_(version), budget_(input.size() * limits.max_memory_factor + 65536) {}

void decoder::fail(const char* field, const std::string& what, errc code) {
  if (failed_) return;
  failed_ = true;
  code_ = code;
  for (const auto& [name, index] : path_) error_ += fmt::format("{}[{}].", name, index);
  if (*field) error_ += fmt::format("{}: ", field);
  error_ += fmt::format("{} at offset {}", what, pos_);
}

bool decoder::take(std::size_t n, const char* field) {
  if (failed_) return false;
  if (end_ - pos_ >= n) return true;
  fail(field, fmt::format("truncated: {} bytes needed, {} left", n, end_ - pos_));
  return false;
}

bool decoder::charge(std::size_t n, const char* field) {
  if (failed_) return false;
  if (n <= budget_) {
    budget_ -= n;
    return true;
  }
  fail(field, "the decoded value would take more memory than its size allows", errc::too_large);
  return false;
}

bool decoder::read_uvarint(std::uint32_t& x, const char* field) {
  // Kafka's unsigned varint of an int32: at most 5 bytes, the last one carrying 4 bits.
  std::uint32_t value = 0;
  for (int i = 0; i < 5; ++i) {
    if (!take(1, field)) return false;
    const std::uint8_t b = in_[pos_++];
    if (i == 4 && b > 0x0f) {
      fail(field, "unsigned varint longer than 32 bits");
      return false;
    }
    value |= static_cast<std::uint32_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      x = value;
      return true;
    }
  }
  return false;  // not reached: the fifth byte has no continuation bit
}

bool decoder::read_length(std::optional<std::size_t>& n, const field_info& f, bool int16_length) {
  if (f.compact) {
    std::uint32_t v = 0;
    if (!read_uvarint(v, f.name)) return false;
    if (v > 0) n = v - 1;
  } else if (int16_length) {
    std::int16_t v = 0;
    read_int(v, f.name);
    if (failed_) return false;
    if (v < -1) return fail(f.name, fmt::format("negative length {}", v)), false;
    if (v >= 0) n = static_cast<std::size_t>(v);
  } else {
    std::int32_t v = 0;
    read_int(v, f.name);
    if (failed_) return false;
    if (v < -1) return fail(f.name, fmt::format("negative length {}", v)), false;
    if (v >= 0) n = static_cast<std::size_t>(v);
  }
  return true;
}

bool decoder::null_allowed(const field_info& f) {
  if (f.nullable) return true;
  fail(f.name, "null in a field that is not nullable in this version");
  return false;
}

void decoder::read(bool& x, const field_info& f) {
  if (!take(1, f.name)) return;
  x = in_[pos_++] != 0;
}

void decoder::read(double& x, const field_info& f) {
  std::uint64_t u = 0;
  read_int(u, f.name);
  if (!failed_) x = std::bit_cast<double>(u);
}

void decoder::read(uuid& x, const field_info& f) {
  if (!take(16, f.name)) return;
  std::copy_n(in_.begin() + static_cast<std::ptrdiff_t>(pos_), 16, x.bytes.begin());
  pos_ += 16;
}

void decoder::read(std::string& x, const field_info& f) {
  std::optional<std::size_t> n;
  if (!read_length(n, f, true)) return;
  if (!n) return fail(f.name, "null string in a field that is not nullable");
  read_string_body(x, *n, f.name);
}

void decoder::read(nodus::bytes& x, const field_info& f) {
  std::optional<std::size_t> n;
  if (!read_length(n, f, false)) return;
  if (!n) return fail(f.name, "null bytes in a field that is not nullable");
  read_bytes_body(x, *n, f.name);
}

void decoder::read_string_body(std::string& x, std::size_t n, const char* field) {
  if (!take(n, field) || !charge(n, field)) return;
  x.assign(reinterpret_cast<const char*>(in_.data() + pos_), n);
  pos_ += n;
}

void decoder::read_bytes_body(nodus::bytes& x, std::size_t n, const char* field) {
  if (!take(n, field) || !charge(n, field)) return;
  const auto first = in_.begin() + static_cast<std::ptrdiff_t>(pos_);
  x.assign(first, first + static_cast<std::ptrdiff_t>(n));
  pos_ += n;
}

void decoder::tags_begin() {
  tag_frames_.emplace_back();
  if (failed_) return;
  std::uint32_t count = 0;
  if (!read_uvarint(count, "tagged fields")) return;
  // Each tagged field takes at least two bytes (its tag and its size).
  if (count > (end_ - pos_) / 2) return fail("tagged fields", fmt::format("{} tagged fields do not fit", count));
  if (!charge(count * sizeof(tag_entry), "tagged fields")) return;
  auto& frame = tag_frames_.back();
  frame.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t tag = 0, size = 0;
    if (!read_uvarint(tag, "tagged fields") || !read_uvarint(size, "tagged fields")) return;
    if (!take(size, "tagged fields")) return;
    // Kafka's writers send tags in ascending order; requiring it keeps every decoded message
    // re-encodable to the same bytes and the same value.
    if (!frame.empty() && tag <= frame.back().tag)
      return fail("tagged fields", fmt::format("tag {} after tag {}: tags out of order", tag, frame.back().tag));
    frame.push_back({tag, pos_, size, false});
    pos_ += size;
  }
}

void decoder::tags_end(unknown_tagged_fields& unknown) {
  auto frame = std::move(tag_frames_.back());
  tag_frames_.pop_back();
  if (failed_) return;
  for (const auto& e : frame) {
    if (e.claimed) continue;
    if (!charge(e.size + sizeof(tagged_field), "tagged fields")) return;
    const auto first = in_.begin() + static_cast<std::ptrdiff_t>(e.offset);
    unknown.push_back({e.tag, nodus::bytes(first, first + static_cast<std::ptrdiff_t>(e.size))});
  }
}

void encoder::write_uvarint(std::uint32_t x) {
  while (x >= 0x80) {
    out_->push_back(static_cast<std::uint8_t>(x | 0x80));
    x >>= 7;
  }
  out_->push_back(static_cast<std::uint8_t>(x));
}

void encoder::write_length(std::optional<std::size_t> n, const field_info& f, bool int16_length) {
  if (f.compact) return write_uvarint(n ? static_cast<std::uint32_t>(*n + 1) : 0);
  const auto v = n ? static_cast<std::int64_t>(*n) : -1;
  if (int16_length) return write_int(static_cast<std::int16_t>(v));
  write_int(static_cast<std::int32_t>(v));
}

void encoder::write(const std::string& x, const field_info& f) {
  write_length(x.size(), f, true);
  out_->insert(out_->end(), x.begin(), x.end());
}

void encoder::write(const nodus::bytes& x, const field_info& f) {
  write_length(x.size(), f, false);
  out_->insert(out_->end(), x.begin(), x.end());
}

// Known and unknown tagged fields together in tag order, as Kafka's writers send them and as
// the decoder requires them.
void encoder::tags_end(const unknown_tagged_fields& unknown) {
  auto known = std::move(tag_frames_.back());
  tag_frames_.pop_back();
  write_uvarint(static_cast<std::uint32_t>(known.size() + unknown.size()));
  std::vector<const tagged_field*> all;
  all.reserve(known.size() + unknown.size());
  for (const auto& t : known) all.push_back(&t);
  for (const auto& t : unknown) all.push_back(&t);
  std::stable_sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->tag < b->tag; });
  for (const auto* t : all) {
    write_uvarint(t->tag);
    write_uvarint(static_cast<std::uint32_t>(t->data.size()));
    out_->insert(out_->end(), t->data.begin(), t->data.end());
  }
}

void json_builder::tags_end(const unknown_tagged_fields& unknown) {
  auto tagged = std::move(tagged_.back());
  tagged_.pop_back();
  if (!tagged.empty()) out_->emplace_back("_tagged", std::move(tagged));
  if (unknown.empty()) return;
  json::array a;
  for (const auto& t : unknown) a.push_back(json::object{{"tag", t.tag}, {"hex", to_hex(t.data)}});
  out_->emplace_back("_unknown_tagged", std::move(a));
}

failure decode_failure(const decoder& d, const char* message_name, std::int16_t version) {
  return failure{d.error_code(), fmt::format("{} v{}: {}", message_name, version, d.error_text())};
}

}  // namespace detail
}  // namespace nodus::kafka
