#pragma once
// The allocator of routes' hop storage: small blocks kept per thread for reuse.
//
// Every local message carries two routes, and a route of one or two hops was a heap block of
// 40-80 bytes, so two of a message's three allocations. A sender that queues a burst (up to a
// mailbox's 1 024 messages) outruns glibc's per-thread cache (7 blocks of a size), and the rest
// take malloc's slower fast-bin path both ways (issue 16: about 225 instructions a block). The
// blocks freed on a thread are kept there, a bounded number per size, and handed out again.

#include <cstddef>

namespace nodus::detail {

/// A block for `bytes` bytes of hops: from this thread's pool when one of its size is kept.
void* allocate_hop_storage(std::size_t bytes);
/// Gives back a block from `allocate_hop_storage(bytes)` (on any thread).
void deallocate_hop_storage(void* block, std::size_t bytes) noexcept;

template <class T>
struct hop_allocator {
  using value_type = T;
  hop_allocator() = default;
  template <class U>
  hop_allocator(const hop_allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_hop_storage(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_hop_storage(p, n * sizeof(T)); }
  friend bool operator==(const hop_allocator&, const hop_allocator&) noexcept { return true; }
};

}  // namespace nodus::detail
