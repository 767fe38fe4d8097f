#pragma once
// The output buffer of a streaming decompressor: it grows by chunks as the codec fills it, and
// refuses to grow past the caller's maximum, so a decompression bomb costs at most that much. It
// holds one byte more than the maximum, so that output of exactly the maximum is told apart from
// more (`over()`).

#include <algorithm>
#include <cstddef>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::kafka::records::detail {

inline constexpr std::size_t output_chunk = 64 * 1024;

class bounded_output {
public:
  explicit bounded_output(std::size_t max) : max_(max) {}

  /// Room for the codec to write at least one byte: false once the output is over the maximum.
  bool grow() {
    if (over()) return false;
    if (out_.size() == used_) out_.resize(used_ + std::min(output_chunk, max_ + 1 - used_));
    return true;
  }
  bool over() const { return used_ > max_; }
  std::uint8_t* next() { return out_.data() + used_; }
  std::size_t room() const { return out_.size() - used_; }
  void commit(std::size_t n) { used_ += n; }
  std::size_t size() const { return used_; }
  bytes take() && {
    out_.resize(used_);
    return std::move(out_);
  }

private:
  bytes out_;
  std::size_t used_ = 0;
  std::size_t max_;
};

inline failure too_large(std::string_view codec, std::size_t max) {
  return failure{errc::too_large,
                 std::string(codec) + " data decompresses to more than the limit of " + std::to_string(max) + " bytes"};
}

inline failure corrupt(std::string_view codec, std::string_view why) {
  return failure{errc::malformed, std::string(codec) + " data does not decompress: " + std::string(why)};
}

inline result_or_failure<bytes> finish(std::string_view codec, bounded_output&& out, std::size_t max) {
  if (out.over()) return too_large(codec, max);
  return std::move(out).take();
}

}  // namespace nodus::kafka::records::detail
