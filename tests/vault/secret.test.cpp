// The secret type wipes its bytes before giving the memory back: on destruction, on wipe(),
// and when a moved-to secret replaces or outlives them.
#include "nodus/vault/secret.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <numeric>

using nodus::vault::basic_secret;

namespace {

// What the allocator saw in each buffer at the moment it was given back.
struct ledger {
  int allocated = 0;
  int returned_zeroed = 0;
  int returned_with_data = 0;
};

// An allocator that inspects every buffer when it is deallocated.
template <class T>
struct inspecting_allocator {
  using value_type = T;
  std::shared_ptr<ledger> book = std::make_shared<ledger>();

  inspecting_allocator() = default;
  template <class U>
  inspecting_allocator(const inspecting_allocator<U>& other) noexcept : book(other.book) {}

  T* allocate(std::size_t n) {
    ++book->allocated;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const bool zeroed = std::all_of(p, p + n, [](T b) { return b == T{0}; });
    ++(zeroed ? book->returned_zeroed : book->returned_with_data);
    std::allocator<T>().deallocate(p, n);
  }
  friend bool operator==(const inspecting_allocator& a, const inspecting_allocator& b) { return a.book == b.book; }
};

using test_secret = basic_secret<inspecting_allocator<std::uint8_t>>;

nodus::bytes pattern(std::size_t n) {
  nodus::bytes b(n);
  std::iota(b.begin(), b.end(), std::uint8_t{1});  // no zero byte among the first 255
  return b;
}

bool holds_data(const test_secret& s) {
  return !s.empty() && std::none_of(s.data(), s.data() + s.size(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

TEST_CASE("the inspecting allocator notices a buffer given back without wiping") {
  // The control for the tests below: if the secret skipped its wipe, they would see this.
  inspecting_allocator<std::uint8_t> alloc;
  auto* p = std::allocator_traits<decltype(alloc)>::allocate(alloc, 16);
  std::fill_n(p, 16, std::uint8_t{0x5a});
  std::allocator_traits<decltype(alloc)>::deallocate(alloc, p, 16);
  CHECK(alloc.book->returned_with_data == 1);
  CHECK(alloc.book->returned_zeroed == 0);
}

TEST_CASE("destruction wipes the bytes") {
  inspecting_allocator<std::uint8_t> alloc;
  {
    test_secret s(pattern(48), alloc);
    REQUIRE(holds_data(s));
    CHECK(s.size() == 48);
    CHECK(std::equal(s.view().begin(), s.view().end(), pattern(48).begin()));
  }
  CHECK(alloc.book->allocated == 1);
  CHECK(alloc.book->returned_zeroed == 1);
  CHECK(alloc.book->returned_with_data == 0);
}

TEST_CASE("wipe() wipes, frees and empties") {
  inspecting_allocator<std::uint8_t> alloc;
  test_secret s(pattern(32), alloc);
  REQUIRE(holds_data(s));
  s.wipe();
  CHECK(s.empty());
  CHECK(s.data() == nullptr);
  CHECK(alloc.book->returned_zeroed == 1);
  s.wipe();  // twice is harmless
  CHECK(alloc.book->returned_zeroed == 1);
  CHECK(alloc.book->returned_with_data == 0);
}

TEST_CASE("a move leaves the source empty and the bytes are wiped when the target goes") {
  inspecting_allocator<std::uint8_t> alloc;
  {
    test_secret source(pattern(40), alloc);
    test_secret target(std::move(source));
    CHECK(source.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    CHECK(source.data() == nullptr);
    REQUIRE(holds_data(target));
    CHECK(alloc.book->allocated == 1);
    CHECK(alloc.book->returned_zeroed + alloc.book->returned_with_data == 0);  // one buffer, not copied
  }
  CHECK(alloc.book->returned_zeroed == 1);
  CHECK(alloc.book->returned_with_data == 0);
}

TEST_CASE("move assignment wipes the bytes it replaces") {
  inspecting_allocator<std::uint8_t> alloc;
  test_secret kept(pattern(24), alloc);
  test_secret replaced(pattern(64), alloc);
  REQUIRE(holds_data(replaced));
  replaced = std::move(kept);
  CHECK(alloc.book->returned_zeroed == 1);  // the 64 bytes, at the assignment
  CHECK(replaced.size() == 24);
  CHECK(kept.empty());             // NOLINT(bugprone-use-after-move)
  replaced = std::move(replaced);  // self-move keeps the bytes
  CHECK(replaced.size() == 24);
  replaced.wipe();
  CHECK(alloc.book->returned_zeroed == 2);
  CHECK(alloc.book->returned_with_data == 0);
}

TEST_CASE("a sized secret starts zeroed; an empty one allocates nothing") {
  inspecting_allocator<std::uint8_t> alloc;
  {
    test_secret zeros(16, alloc);
    CHECK(zeros.size() == 16);
    CHECK(std::all_of(zeros.data(), zeros.data() + 16, [](std::uint8_t b) { return b == 0; }));
    zeros.span()[3] = 9;
    CHECK(zeros.view()[3] == 9);
    test_secret none(nodus::byte_view{}, alloc);
    CHECK(none.empty());
  }
  CHECK(alloc.book->allocated == 1);
  CHECK(alloc.book->returned_zeroed == 1);
}

TEST_CASE("wipe_bytes zeroes memory") {
  auto b = pattern(100);
  nodus::vault::wipe_bytes(b.data(), b.size());
  CHECK(std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; }));
  nodus::vault::wipe_bytes(nullptr, 0);
}
