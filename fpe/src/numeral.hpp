#pragma once
// Numeral strings and the numbers they stand for: the checks every mode makes on its input, and
// NUM_radix / STR^m_radix of SP 800-38G (section 4.5) on OpenSSL BIGNUMs. Private to fpe/src.

#include <openssl/bn.h>

#include <cstddef>
#include <memory>
#include <string_view>

#include "nodus/core/failure.hpp"

namespace nodus::fpe::detail {

struct bn_deleter {
  void operator()(BIGNUM* n) const noexcept { BN_clear_free(n); }
};
struct bn_ctx_deleter {
  void operator()(BN_CTX* ctx) const noexcept { BN_CTX_free(ctx); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_deleter>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, bn_ctx_deleter>;

/// What one call checks its input against: the mode's name and length limits.
struct mode_limits {
  std::string_view mode;      ///< "FF1", "FF3-1": the start of every reason
  std::size_t max_length;     ///< for this radix
  std::string_view max_rule;  ///< how max_length is derived, for the reason ("" when fixed)
};

/// Refuses a radix outside 2..36.
result_or_failure<void> check_radix(std::string_view mode, unsigned radix);
/// Refuses a string shorter than min_length(radix) or longer than `limits.max_length`, and any
/// character not a digit of `radix` (naming the first one and its index). `radix` is checked.
result_or_failure<void> check_numeral_string(const mode_limits& limits, std::string_view x, unsigned radix);

/// The numbers of one call: a BN_CTX and fresh BIGNUMs; the failure names `mode`.
class bignums {
public:
  static result_or_failure<bignums> make(std::string_view mode);
  /// A new zero BIGNUM, or null when OpenSSL cannot allocate one.
  bn_ptr fresh() const noexcept { return bn_ptr(BN_new()); }
  BN_CTX* ctx() const noexcept { return ctx_.get(); }

private:
  explicit bignums(bn_ctx_ptr ctx) noexcept : ctx_(std::move(ctx)) {}
  bn_ctx_ptr ctx_;
};

/// out = radix^exponent.
bool power(BIGNUM* out, unsigned radix, std::size_t exponent, BN_CTX* ctx) noexcept;
/// out = NUM_radix(x), or NUM_radix(REV(x)) when `reversed`; x is a checked numeral string.
bool num_of(BIGNUM* out, std::string_view x, unsigned radix, bool reversed) noexcept;
/// Writes STR^m_radix(x) to out[0..m), or REV(STR^m_radix(x)) when `reversed`; x < radix^m.
/// Consumes x (it is 0 afterwards).
bool str_of(BIGNUM* x, unsigned radix, char* out, std::size_t m, bool reversed) noexcept;

/// A failure of OpenSSL's big-number arithmetic in `mode`.
failure bignum_failure(std::string_view mode);

}  // namespace nodus::fpe::detail
