#pragma once
// The lock of a mailbox: a test-and-test-and-set spin lock. Every section it guards is a few
// queue or flag operations (no I/O, no waiting), and a message takes it about three times, so
// it costs one atomic exchange and a plain store where std::mutex costs two atomic
// read-modify-writes and two calls. A waiter spins briefly, then yields its time slice, so a
// holder that was preempted gets the core back.

#include <atomic>
#include <thread>

namespace nodus::detail {

class spin_mutex {
public:
  void lock() noexcept {
    for (unsigned spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < spins_before_yield)
          relax();
        else
          std::this_thread::yield();
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
  static constexpr unsigned spins_before_yield = 64;
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::atomic<bool> locked_{false};
};

}  // namespace nodus::detail
