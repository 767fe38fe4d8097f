#pragma once
/// The receiving side's record of which sequence numbers it has accepted: a sliding bitmap, so
/// duplicates and replays are dropped and reordering inside the window is accepted once.

#include <cstdint>
#include <vector>

namespace nodus::secure_channel {

class replay_window {
public:
  enum class verdict { fresh, duplicate, too_old };

  /// Remembers the last `size` sequence numbers (rounded up to a multiple of 64, at least 64).
  explicit replay_window(std::size_t size = 1024);

  /// What accepting `n` would mean. Does not change anything: call `accept` only once the
  /// message has been authenticated, so forged numbers cannot move the window.
  verdict check(std::uint64_t n) const noexcept;

  /// Records `n` (which `check` said is fresh). Returns how many numbers it skipped over, i.e.
  /// how many messages before it have not arrived (0 when in order or filling a hole).
  std::uint64_t accept(std::uint64_t n) noexcept;

  /// Numbers below the newest accepted one that were never accepted: messages an intermediary
  /// dropped (or is still holding back).
  std::uint64_t missing() const noexcept { return any_ ? newest_ + 1 - accepted_ : 0; }
  /// The newest accepted number, if any.
  bool any() const noexcept { return any_; }
  std::uint64_t newest() const noexcept { return newest_; }
  std::size_t size() const noexcept { return bits_.size() * 64; }

private:
  bool test(std::uint64_t n) const noexcept { return (bits_[(n / 64) % bits_.size()] >> (n % 64)) & 1u; }
  void set(std::uint64_t n) noexcept { bits_[(n / 64) % bits_.size()] |= std::uint64_t{1} << (n % 64); }
  void clear(std::uint64_t n) noexcept { bits_[(n / 64) % bits_.size()] &= ~(std::uint64_t{1} << (n % 64)); }

  std::vector<std::uint64_t> bits_;
  std::uint64_t newest_ = 0;
  std::uint64_t accepted_ = 0;
  bool any_ = false;
};

}  // namespace nodus::secure_channel
