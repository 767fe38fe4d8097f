#pragma once
/// Secret bytes that are wiped when they go away.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "nodus/core/bytes.hpp"

namespace nodus::vault {

/// Overwrites `size` bytes at `data` with zeros in a way the compiler may not elide
/// (OPENSSL_cleanse).
void wipe_bytes(void* data, std::size_t size) noexcept;

/// A fixed-size buffer of secret bytes, move-only, wiped on destruction, on move-from and on
/// `wipe()`. The allocator parameter exists so that a test can observe the bytes at the moment
/// they are given back; users use `secret`.
template <class Allocator = std::allocator<std::uint8_t>>
class basic_secret {
public:
  basic_secret() = default;
  /// `size` zero bytes.
  explicit basic_secret(std::size_t size, const Allocator& alloc = Allocator()) : alloc_(alloc) { allocate(size); }
  /// A copy of `bytes` (the caller wipes its own copy).
  explicit basic_secret(byte_view bytes, const Allocator& alloc = Allocator()) : alloc_(alloc) {
    allocate(bytes.size());
    if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), data_);
  }
  basic_secret(const basic_secret&) = delete;
  basic_secret& operator=(const basic_secret&) = delete;
  basic_secret(basic_secret&& other) noexcept : alloc_(other.alloc_), data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  basic_secret& operator=(basic_secret&& other) noexcept {
    if (this != &other) {
      wipe();
      alloc_ = other.alloc_;
      data_ = other.data_;
      size_ = other.size_;
      other.data_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  ~basic_secret() { wipe(); }

  /// Zeroes the bytes, frees them and leaves the secret empty.
  void wipe() noexcept {
    if (data_ == nullptr) return;
    wipe_bytes(data_, size_);
    std::allocator_traits<Allocator>::deallocate(alloc_, data_, size_);
    data_ = nullptr;
    size_ = 0;
  }

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  byte_view view() const noexcept { return {data_, size_}; }
  std::span<std::uint8_t> span() noexcept { return {data_, size_}; }

private:
  void allocate(std::size_t size) {
    if (size == 0) return;
    data_ = std::allocator_traits<Allocator>::allocate(alloc_, size);
    std::fill_n(data_, size, std::uint8_t{0});
    size_ = size;
  }

  [[no_unique_address]] Allocator alloc_{};
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

using secret = basic_secret<>;

}  // namespace nodus::vault
