// The input checks of both modes and NUM/STR on BIGNUMs. NUM and STR run only when a call starts
// and ends: the rounds keep A and B as numbers (NUM_radix(STR^m_radix(c)) = c for c < radix^m), so
// no round converts a string. Digits go in and out a machine word at a time (radix^k < 2^64),
// which makes a conversion about k times faster than a digit at a time.
#include "numeral.hpp"

#include <openssl/err.h>

#include <cstdint>
#include <limits>
#include <string>

#include "nodus/fpe/fpe.hpp"

namespace nodus::fpe {
namespace {

constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr std::uint64_t min_domain = 1000000;  // radix^minlen >= 1 000 000 (SP 800-38G Rev. 1)

bool supported(unsigned radix) noexcept { return radix >= min_radix && radix <= max_radix; }

// The value of a character of the alphabet, or max_radix when it is none.
unsigned digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a') + 10;
  return max_radix;
}

// The largest k with radix^k <= 2^96, on 32-bit limbs (exact; no floating-point logarithm).
std::size_t max_power_in_96_bits(unsigned radix) noexcept {
  std::uint64_t limb[4] = {1, 0, 0, 0};  // little-endian; 2^96 is limb[3] == 1, the rest 0
  std::size_t k = 0;
  for (;;) {
    std::uint64_t next[4];
    std::uint64_t carry = 0;
    for (int i = 0; i < 4; ++i) {
      const std::uint64_t v = limb[i] * radix + carry;
      next[i] = v & 0xffffffffu;
      carry = v >> 32;
    }
    if (carry != 0 || next[3] > 1 || (next[3] == 1 && (next[0] | next[1] | next[2]) != 0)) return k;
    for (int i = 0; i < 4; ++i) limb[i] = next[i];
    ++k;
  }
}

// The digits of a radix, for a reason: "0-1", "0-9", "0-9 and a", "0-9 and a-z".
std::string digits_of(unsigned radix) {
  if (radix <= 10) return std::string("0-") + alphabet[radix - 1];
  if (radix == 11) return "0-9 and a";
  return std::string("0-9 and a-") + alphabet[radix - 1];
}

std::string shown(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  static constexpr char hex[] = "0123456789abcdef";
  return std::string("byte 0x") + hex[byte >> 4] + hex[byte & 0xf];
}

// k digits per machine word: the largest k with radix^k <= the largest BN_ULONG; and radix^k.
struct word_chunk {
  std::size_t digits = 0;
  BN_ULONG power = 1;
};

word_chunk chunk_of(unsigned radix) noexcept {
  word_chunk c;
  while (c.power <= std::numeric_limits<BN_ULONG>::max() / radix) {
    c.power *= radix;
    ++c.digits;
  }
  return c;
}

BN_ULONG power_of(unsigned radix, std::size_t k) noexcept {
  BN_ULONG p = 1;
  for (std::size_t i = 0; i < k; ++i) p *= radix;
  return p;
}

}  // namespace

std::size_t min_length(unsigned radix) noexcept {
  if (!supported(radix)) return 0;
  std::uint64_t domain = radix;
  std::size_t length = 1;
  while (length < 2 || domain < min_domain) {
    domain *= radix;
    ++length;
  }
  return length;
}

std::size_t ff3_1_max_length(unsigned radix) noexcept { return supported(radix) ? 2 * max_power_in_96_bits(radix) : 0; }

namespace detail {

result_or_failure<void> check_radix(std::string_view mode, unsigned radix) {
  if (supported(radix)) return outcome::success();
  return fail(errc::invalid_radix, std::string(mode) + ": radix " + std::to_string(radix) +
                                       " is not supported: the radix must be 2 to 36 (digits 0-9 and a-z)");
}

result_or_failure<void> check_numeral_string(const mode_limits& limits, std::string_view x, unsigned radix) {
  const std::string mode(limits.mode);
  const std::size_t shortest = min_length(radix);
  if (x.size() < shortest)
    return fail(errc::invalid_length, mode + ": a numeral string of " + std::to_string(x.size()) +
                                          " characters is too short: radix " + std::to_string(radix) +
                                          " needs at least " + std::to_string(shortest) + " (radix^length >= 1000000)");
  if (x.size() > limits.max_length) {
    std::string reason = mode + ": a numeral string of " + std::to_string(x.size()) + " characters is too long: ";
    if (limits.max_rule.empty())
      reason += "at most " + std::to_string(limits.max_length);
    else
      reason += "radix " + std::to_string(radix) + " allows at most " + std::to_string(limits.max_length) + " (" +
                std::string(limits.max_rule) + ")";
    return fail(errc::invalid_length, std::move(reason));
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (digit_value(x[i]) < radix) continue;
    return fail(errc::invalid_numeral, mode + ": character " + shown(x[i]) + " at index " + std::to_string(i) +
                                           " is not a digit of radix " + std::to_string(radix) + " (" +
                                           digits_of(radix) + ")");
  }
  return outcome::success();
}

result_or_failure<bignums> bignums::make(std::string_view mode) {
  bn_ctx_ptr ctx(BN_CTX_new());
  if (!ctx) return bignum_failure(mode);
  return bignums(std::move(ctx));
}

bool power(BIGNUM* out, unsigned radix, std::size_t exponent, BN_CTX* ctx) noexcept {
  bn_ptr base(BN_new());
  bn_ptr e(BN_new());
  return base && e && BN_set_word(base.get(), radix) == 1 && BN_set_word(e.get(), exponent) == 1 &&
         BN_exp(out, base.get(), e.get(), ctx) == 1;
}

bool num_of(BIGNUM* out, std::string_view x, unsigned radix, bool reversed) noexcept {
  const word_chunk chunk = chunk_of(radix);
  BN_zero(out);
  BN_ULONG word = 0;
  std::size_t in_word = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    word = word * radix + digit_value(x[reversed ? x.size() - 1 - i : i]);
    if (++in_word < chunk.digits && i + 1 < x.size()) continue;
    const BN_ULONG scale = in_word == chunk.digits ? chunk.power : power_of(radix, in_word);
    if (BN_mul_word(out, scale) != 1 || BN_add_word(out, word) != 1) return false;
    word = 0;
    in_word = 0;
  }
  return true;
}

bool str_of(BIGNUM* x, unsigned radix, char* out, std::size_t m, bool reversed) noexcept {
  const word_chunk chunk = chunk_of(radix);
  std::size_t j = 0;  // digits written, least significant first
  while (j < m) {
    BN_ULONG word = BN_div_word(x, chunk.power);
    if (word == static_cast<BN_ULONG>(-1)) return false;
    for (std::size_t k = 0; k < chunk.digits && j < m; ++k, ++j) {
      out[reversed ? j : m - 1 - j] = alphabet[word % radix];
      word /= radix;
    }
  }
  return BN_is_zero(x) == 1;  // x < radix^m
}

failure bignum_failure(std::string_view mode) {
  ERR_clear_error();
  return failure(make_error_code(errc::crypto_failure), std::string(mode) + ": OpenSSL big-number arithmetic failed");
}

}  // namespace detail
}  // namespace nodus::fpe
