#pragma once
// Waiting, bounded in time, for something another thread will make true.

#include <chrono>
#include <thread>

namespace nodus::test {

/// Polls `condition` every 10 ms for up to `limit`.
template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace nodus::test
