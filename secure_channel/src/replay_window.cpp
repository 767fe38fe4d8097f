#include "nodus/secure_channel/replay_window.hpp"

#include <algorithm>

namespace nodus::secure_channel {

replay_window::replay_window(std::size_t size) : bits_(std::max<std::size_t>(1, (size + 63) / 64), 0) {}

replay_window::verdict replay_window::check(std::uint64_t n) const noexcept {
  if (!any_ || n > newest_) return verdict::fresh;
  if (newest_ - n >= size()) return verdict::too_old;
  return test(n) ? verdict::duplicate : verdict::fresh;
}

std::uint64_t replay_window::accept(std::uint64_t n) noexcept {
  std::uint64_t skipped = 0;
  if (!any_) {
    skipped = n;  // numbers 0..n-1 never arrived
    std::fill(bits_.begin(), bits_.end(), 0);
    newest_ = n;
    any_ = true;
  } else if (n > newest_) {
    skipped = n - newest_ - 1;
    // Forget what the window slides past: the slots are reused for the new numbers.
    if (n - newest_ >= size()) {
      std::fill(bits_.begin(), bits_.end(), 0);
    } else {
      for (std::uint64_t m = newest_ + 1; m < n; ++m) clear(m);
    }
    clear(n);
    newest_ = n;
  }
  set(n);
  ++accepted_;
  return skipped;
}

}  // namespace nodus::secure_channel
