#pragma once
// Big-endian fields and Kafka's zigzag varints, read from borrowed bytes and written to owned
// ones. The reader never throws: a read past the end (or an over-long varint) marks it failed
// and gives zeros, so decoders read a run of fields and check `ok()` once.

#include <cstddef>
#include <cstdint>

#include "nodus/core/bytes.hpp"

namespace nodus::kafka::records::detail {

class reader {
public:
  explicit reader(byte_view in) noexcept : in_(in) {}

  bool ok() const noexcept { return ok_; }
  std::size_t position() const noexcept { return at_; }
  std::size_t remaining() const noexcept { return in_.size() - at_; }
  void fail() noexcept { ok_ = false; }

  std::uint64_t be(std::size_t width) noexcept {
    if (!ok_ || remaining() < width) return fail(), 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = (v << 8) | in_[at_ + i];
    at_ += width;
    return v;
  }
  std::int8_t i8() noexcept { return static_cast<std::int8_t>(be(1)); }
  std::int16_t i16() noexcept { return static_cast<std::int16_t>(be(2)); }
  std::int32_t i32() noexcept { return static_cast<std::int32_t>(be(4)); }
  std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(be(4)); }
  std::int64_t i64() noexcept { return static_cast<std::int64_t>(be(8)); }

  /// An unsigned LEB128 value of at most `max_bytes` bytes (5 for 32 bits, 10 for 64), whose
  /// last byte has no bits beyond `bits`; anything longer fails (Kafka's ByteUtils does too).
  std::uint64_t unsigned_varint(std::size_t max_bytes, unsigned bits) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < max_bytes; ++i) {
      if (!ok_ || remaining() == 0) return fail(), 0;
      const std::uint8_t b = in_[at_++];
      const unsigned shift = static_cast<unsigned>(7 * i);
      if (shift + 7 > bits && (b & 0x7f) >> (bits - shift) != 0) return fail(), 0;
      v |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail(), 0;
  }
  std::int32_t varint() noexcept {
    const auto u = static_cast<std::uint32_t>(unsigned_varint(5, 32));
    return static_cast<std::int32_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::int64_t varlong() noexcept {
    const auto u = unsigned_varint(10, 64);
    return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }

  /// The next `n` bytes, borrowed.
  byte_view take(std::size_t n) noexcept {
    if (!ok_ || remaining() < n) return fail(), byte_view{};
    const auto out = in_.subspan(at_, n);
    at_ += n;
    return out;
  }
  byte_view rest() noexcept { return take(remaining()); }

private:
  byte_view in_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

class writer {
public:
  explicit writer(bytes& out) noexcept : out_(out) {}

  void be(std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * (width - 1 - i))));
  }
  void unsigned_varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void varint(std::int32_t v) {
    unsigned_varint((static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31));
  }
  void varlong(std::int64_t v) {
    unsigned_varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void put(byte_view b) { out_.insert(out_.end(), b.begin(), b.end()); }

private:
  bytes& out_;
};

}  // namespace nodus::kafka::records::detail
