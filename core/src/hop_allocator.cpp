#include "nodus/core/detail/hop_allocator.hpp"

#include <array>
#include <cstdint>
#include <new>
#include <utility>

namespace nodus::detail {
namespace {

// Sizes kept: routes of up to 1, 3 and 6 hops (an address is 40 bytes). Longer ones are rare.
constexpr std::array<std::size_t, 3> pooled_sizes{64, 128, 256};
// At most this many bytes kept per size and thread, so a thread that once freed a large burst
// holds at most 3 x 128 KiB.
constexpr std::size_t kept_bytes_per_size = 128 * 1024;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool pooling = false;  // ASan must see every block's use after free
#else
constexpr bool pooling = true;
#endif

int size_class(std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < pooled_sizes.size(); ++i)
    if (bytes <= pooled_sizes[i]) return static_cast<int>(i);
  return -1;
}

struct free_block {
  free_block* next;
};

// False before this thread's pool is made and once it is destroyed (a route freed by another
// thread_local's destructor): then blocks go straight back to malloc.
thread_local bool pool_alive = false;  // trivially destructible: readable while the pool is torn down

struct thread_pool {
  std::array<free_block*, pooled_sizes.size()> heads{};
  std::array<std::size_t, pooled_sizes.size()> counts{};
  thread_pool() noexcept { pool_alive = true; }
  ~thread_pool() {
    pool_alive = false;
    for (auto* head : heads)
      while (head) ::operator delete(std::exchange(head, head->next));
  }
};

thread_local thread_pool pool;

}  // namespace

void* allocate_hop_storage(std::size_t bytes) {
  const int c = pooling ? size_class(bytes) : -1;
  if (c < 0) return ::operator new(bytes);
  auto& p = pool;  // constructs this thread's pool on first use
  if (auto* block = p.heads[c]) {
    p.heads[c] = block->next;
    --p.counts[c];
    return block;
  }
  return ::operator new(pooled_sizes[c]);
}

void deallocate_hop_storage(void* block, std::size_t bytes) noexcept {
  const int c = pooling ? size_class(bytes) : -1;
  if (c < 0 || !pool_alive || pool.counts[c] * pooled_sizes[c] >= kept_bytes_per_size) {
    ::operator delete(block);
    return;
  }
  auto& p = pool;
  auto* b = static_cast<free_block*>(block);
  b->next = p.heads[c];
  p.heads[c] = b;
  ++p.counts[c];
}

}  // namespace nodus::detail
