#pragma once
// The FIFO inside a mailbox: a ring buffer of raw slots that allocates nothing until the first
// message, then grows by doubling, and gives its storage back when its worker goes idle after a
// burst. An idle worker costs no queue storage (a std::deque allocates about 600 bytes up front),
// and a busy one reuses its slots instead of allocating a chunk every 4 messages. Not
// thread-safe: the mailbox's mutex guards it.

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

#include "nodus/core/local_message.hpp"

namespace nodus::detail {

class message_queue {
public:
  message_queue() = default;
  message_queue(const message_queue&) = delete;
  message_queue& operator=(const message_queue&) = delete;
  ~message_queue() { clear(); }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void push(local_message&& m) {
    if (size_ == capacity_) grow();
    ::new (static_cast<void*>(slot(size_))) local_message(std::move(m));
    ++size_;
  }

  /// Moves the oldest message into `out`; the queue must not be empty.
  void pop_into(local_message& out) {
    local_message* front = slot(0);
    out = std::move(*front);
    front->~local_message();
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
  }

  /// Drops every message and the storage.
  void clear() noexcept {
    for (std::size_t i = 0; i < size_; ++i) slot(i)->~local_message();
    if (slots_) std::allocator<local_message>().deallocate(slots_, capacity_);
    slots_ = nullptr;
    capacity_ = head_ = size_ = regrow_to_ = 0;
  }

  /// Frees the storage of an empty queue grown past `keep` slots, so a worker that once had a
  /// burst queued does not hold on to room for it while idle. The size is remembered: the next
  /// burst grows back to it in one step instead of doubling up from the start again.
  void shrink_if_empty(std::size_t keep) noexcept {
    if (size_ != 0 || capacity_ <= keep) return;
    const auto previous = capacity_;
    clear();
    regrow_to_ = previous;
  }

private:
  static constexpr std::size_t first_capacity = 1;  // a power of two, like every capacity

  // The i-th message from the front; slots hold live messages only between head_ and size_.
  local_message* slot(std::size_t i) const noexcept { return slots_ + ((head_ + i) & (capacity_ - 1)); }

  void grow() {
    std::size_t bigger = capacity_ ? capacity_ * 2 : first_capacity;
    if (capacity_ && regrow_to_ > bigger) bigger = std::exchange(regrow_to_, 0);
    local_message* slots = std::allocator<local_message>().allocate(bigger);
    for (std::size_t i = 0; i < size_; ++i) {
      ::new (static_cast<void*>(slots + i)) local_message(std::move(*slot(i)));
      slot(i)->~local_message();
    }
    if (slots_) std::allocator<local_message>().deallocate(slots_, capacity_);
    slots_ = slots;
    capacity_ = bigger;
    head_ = 0;
  }

  local_message* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t regrow_to_ = 0;  // the capacity before the last shrink; 0 when none
};

}  // namespace nodus::detail
