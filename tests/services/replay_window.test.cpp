#include "nodus/secure_channel/replay_window.hpp"

#include <doctest/doctest.h>

using nodus::secure_channel::replay_window;
using verdict = replay_window::verdict;

TEST_CASE("replay window: in order, duplicates, reordering, gaps and the window's edge") {
  replay_window w(64);
  CHECK(w.size() == 64);
  CHECK(w.check(0) == verdict::fresh);
  CHECK(w.accept(0) == 0);
  CHECK(w.check(0) == verdict::duplicate);
  CHECK(w.accept(1) == 0);
  CHECK(w.missing() == 0);

  CHECK(w.accept(5) == 3);  // 2, 3, 4 skipped
  CHECK(w.missing() == 3);
  CHECK(w.check(3) == verdict::fresh);  // late, inside the window: accepted once
  CHECK(w.accept(3) == 0);
  CHECK(w.check(3) == verdict::duplicate);
  CHECK(w.missing() == 2);

  CHECK(w.accept(5 + 64) == 63);
  CHECK(w.check(5) == verdict::too_old);  // exactly one window behind
  CHECK(w.check(6) == verdict::fresh);    // never received, still inside
  CHECK(w.check(5 + 64) == verdict::duplicate);
  CHECK(w.missing() == 2 + 63);
}

TEST_CASE("replay window: a first message with a high number counts the ones before it as missing") {
  replay_window w(1024);
  CHECK(w.accept(10) == 10);
  CHECK(w.missing() == 10);
  CHECK(w.check(0) == verdict::fresh);
}

TEST_CASE("replay window: a jump far past the window forgets everything before it") {
  replay_window w(128);
  for (std::uint64_t n = 0; n < 100; ++n) w.accept(n);
  CHECK(w.accept(100000) == 100000 - 100);
  for (std::uint64_t n = 100000 - 127; n < 100000; ++n) REQUIRE(w.check(n) == verdict::fresh);
  CHECK(w.check(100000 - 128) == verdict::too_old);
  CHECK(w.check(50) == verdict::too_old);
}

TEST_CASE("replay window: sizes round up to whole words") {
  CHECK(replay_window(1).size() == 64);
  CHECK(replay_window(65).size() == 128);
}
