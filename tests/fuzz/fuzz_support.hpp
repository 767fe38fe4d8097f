#pragma once
// What every fuzz target shares: a property check that stops the run, a reader of the fuzz
// input from its front (so the corpus generator can write inputs field by field), and a watch
// on the largest single allocation a decoder makes.

#include <sanitizer/allocator_interface.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "nodus/core/bytes.hpp"

namespace nodus::fuzz {

/// Stops the run with a report when a property that must hold does not (libFuzzer saves the
/// input as a crash).
#define NODUS_FUZZ_CHECK(condition)                                                           \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

/// Reads the fuzz input from the front; past its end every read gives zeros or nothing.
class input {
public:
  input(const std::uint8_t* data, std::size_t size) : data_(data, size) {}

  std::uint8_t u8() { return at_ < data_.size() ? data_[at_++] : 0; }
  std::uint32_t u16() { return (std::uint32_t{u8()} << 8) | u8(); }
  /// The next `n` bytes, or fewer at the end.
  byte_view take(std::size_t n) {
    const auto got = std::min(n, remaining());
    const auto out = data_.subspan(at_, got);
    at_ += got;
    return out;
  }
  byte_view rest() { return take(remaining()); }
  std::size_t remaining() const { return data_.size() - at_; }
  bool empty() const { return remaining() == 0; }

private:
  byte_view data_;
  std::size_t at_ = 0;
};

namespace detail {
inline bool watching = false;
inline std::size_t largest = 0;
inline void on_malloc(const volatile void*, std::size_t size) {
  if (watching && size > largest) largest = size;
}
inline void on_free(const volatile void*) {}
}  // namespace detail

/// While alive, records the largest single allocation (through the sanitizer's malloc hooks).
/// `check(limit)` fails the run when it exceeded `limit`: a decoder must not let a short input
/// ask for a large allocation.
class allocation_watch {
public:
  allocation_watch() {
    static const bool installed = __sanitizer_install_malloc_and_free_hooks(detail::on_malloc, detail::on_free) != 0;
    NODUS_FUZZ_CHECK(installed);
    detail::largest = 0;
    detail::watching = true;
  }
  ~allocation_watch() { detail::watching = false; }
  allocation_watch(const allocation_watch&) = delete;
  allocation_watch& operator=(const allocation_watch&) = delete;

  std::size_t largest() const { return detail::largest; }
  /// The bound used for decoders of msgpack: a few hundred bytes of objects per input byte
  /// (each msgpack element takes at least one byte), plus msgpack's first zone chunk and slack.
  static std::size_t decoder_limit(std::size_t input_size) { return 256 * input_size + 64 * 1024; }
  void check(std::size_t limit) const {
    if (detail::largest <= limit) return;
    std::fprintf(stderr, "allocation of %zu bytes, over the limit of %zu\n", detail::largest, limit);
    std::abort();
  }
};

}  // namespace nodus::fuzz
