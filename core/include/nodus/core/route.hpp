#pragma once
/// A route: the sequence of addresses a message travels, first hop first.

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nodus/core/address.hpp"
#include "nodus/core/detail/hop_allocator.hpp"

namespace nodus {

/// The most hops a route may have when read from text or from the wire.
inline constexpr std::size_t max_route_length = 64;

/// A sequence of addresses. Each hop pops itself from the front of the onward route and pushes
/// its own address on the front of the return route.
class route {
public:
  using const_iterator = const address*;

  route() = default;
  /// A route through the given addresses, e.g. `route{tcp_address, "echoer"}`.
  /// (Variadic rather than an initializer_list: g++ 12 cannot keep an initializer_list's array
  /// alive across `co_await`, and routes are built inside coroutines all the time.)
  template <class... Hops>
  requires(sizeof...(Hops) > 0 && (std::is_constructible_v<address, Hops&&> && ...)) route(Hops&&... hops) {
    hops_.reserve(sizeof...(Hops));
    (hops_.emplace_back(std::forward<Hops>(hops)), ...);
  }
  /// A route through the given addresses.
  explicit route(std::vector<address> hops)
      : hops_(std::make_move_iterator(hops.begin()), std::make_move_iterator(hops.end())) {}

  /// Parses `a => 1#host:port => b`; refuses empty hops, bad addresses and over-long routes.
  static result<route> parse(std::string_view text);

  /// True when the route has no hop left.
  bool empty() const noexcept { return hops_.empty(); }
  /// The number of hops.
  std::size_t size() const noexcept { return hops_.size(); }
  /// The first hop. Precondition: `!empty()`.
  const address& next() const { return hops_.front(); }
  /// Removes and returns the first hop, or `errc::empty_route`.
  result<address> step();
  /// Adds a hop in front (the return route grows this way).
  route& prepend(address a);
  /// Adds a hop at the end.
  route& append(address a);
  /// Adds every hop of `tail` at the end.
  route& append(const route& tail);
  /// Makes room for `n` hops in all, so that appending up to that many does not reallocate.
  void reserve(std::size_t n) { hops_.reserve(n); }

  const_iterator begin() const noexcept { return hops_.data(); }
  const_iterator end() const noexcept { return hops_.data() + hops_.size(); }
  const address& operator[](std::size_t i) const { return hops_[i]; }

  /// The text form, hops joined by ` => `; `parse` reads it back to an equal route.
  std::string to_string() const;

  friend bool operator==(const route&, const route&) = default;

private:
  // Per-thread pooled blocks (detail/hop_allocator.hpp): two of a message's three allocations.
  std::vector<address, detail::hop_allocator<address>> hops_;
};

}  // namespace nodus

template <>
struct fmt::formatter<nodus::route> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const nodus::route& r, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(r.to_string(), ctx);
  }
};
