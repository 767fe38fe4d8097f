#pragma once
// The FIFO inside a mailbox: a ring buffer that allocates nothing until the first message and
// then grows by doubling. An idle worker costs no queue storage (a std::deque allocates about
// 600 bytes up front), and a busy one reuses its slots instead of allocating a chunk every 4
// messages. Not thread-safe: the mailbox's mutex guards it.

#include <cstddef>
#include <memory>
#include <utility>

#include "nodus/core/local_message.hpp"

namespace nodus::detail {

class message_queue {
public:
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void push(local_message&& m) {
    if (size_ == capacity_) grow();
    slots_[(head_ + size_) & (capacity_ - 1)] = std::move(m);
    ++size_;
  }

  /// Moves the oldest message into `out`; the queue must not be empty.
  void pop_into(local_message& out) {
    out = std::move(slots_[head_]);
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
  }

  /// Drops every message and the storage.
  void clear() noexcept {
    slots_.reset();
    capacity_ = head_ = size_ = 0;
  }

private:
  static constexpr std::size_t first_capacity = 8;  // a power of two, like every capacity

  void grow() {
    const std::size_t bigger = capacity_ ? capacity_ * 2 : first_capacity;
    auto slots = std::make_unique<local_message[]>(bigger);
    for (std::size_t i = 0; i < size_; ++i) slots[i] = std::move(slots_[(head_ + i) & (capacity_ - 1)]);
    slots_ = std::move(slots);
    capacity_ = bigger;
    head_ = 0;
  }

  std::unique_ptr<local_message[]> slots_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace nodus::detail
