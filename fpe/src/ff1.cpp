// FF1, SP 800-38G Algorithms 7 and 8. A and B stay numbers through the ten rounds (numeral.cpp);
// Q, S and the numbers are allocated once per call and reused by every round.
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "block_encryptor.hpp"
#include "nodus/fpe/fpe.hpp"
#include "numeral.hpp"

namespace nodus::fpe {
namespace {

constexpr std::string_view mode = "FF1";
constexpr int rounds = 10;

using block = std::array<std::uint8_t, block_size>;

// The state of one FF1 call: the sizes of steps 1 to 4, P and Q (steps 5 and 6.i), and the numbers.
class ff1_call {
public:
  ff1_call(detail::block_encryptor enc, detail::bignums nums, byte_view tweak, std::size_t n, unsigned radix)
      : enc_(std::move(enc)), nums_(std::move(nums)), tweak_(tweak), radix_(radix), n_(n), u_(n / 2), v_(n - n / 2) {}

  ff1_call(const ff1_call&) = delete;
  ff1_call& operator=(const ff1_call&) = delete;
  // Q holds NUM(A) or NUM(B) and S the round's mask: wiped like the numbers (BN_clear_free).
  ~ff1_call() {
    OPENSSL_cleanse(q_.data(), q_.size());
    OPENSSL_cleanse(s_.data(), s_.size());
  }

  result_or_failure<std::string> run(std::string_view x, bool encrypt);

private:
  bool prepare(std::string_view x);
  bool round(int i, bool encrypt);
  bool prf_and_expand(const BIGNUM* half, int i);
  bool output(std::string& out);

  detail::block_encryptor enc_;
  detail::bignums nums_;
  byte_view tweak_;
  unsigned radix_;
  std::size_t n_, u_, v_;
  std::size_t b_ = 0, d_ = 0, q_header_ = 0;  // q_header_: |T| + the zero padding
  block cipher_p_{};                          // CIPH_K(P): the first block of every PRF
  std::vector<std::uint8_t> q_, s_, counters_;
  detail::bn_ptr a_, b_num_, c_, y_, mod_u_, mod_v_;
};

bool ff1_call::prepare(std::string_view x) {
  for (auto* n : {&a_, &b_num_, &c_, &y_, &mod_u_, &mod_v_}) *n = nums_.fresh();
  for (auto* n : {&a_, &b_num_, &c_, &y_, &mod_u_, &mod_v_})
    if (!*n) return false;
  BN_CTX* ctx = nums_.ctx();
  if (!detail::power(mod_u_.get(), radix_, u_, ctx) || !detail::power(mod_v_.get(), radix_, v_, ctx)) return false;
  // Step 3: b = ceil(ceil(v * log2(radix)) / 8), exactly the byte length of radix^v - 1.
  if (!BN_copy(c_.get(), mod_v_.get()) || BN_sub_word(c_.get(), 1) != 1) return false;
  b_ = static_cast<std::size_t>(BN_num_bytes(c_.get()));
  d_ = 4 * ((b_ + 3) / 4) + 4;  // step 4
  const std::size_t t = tweak_.size();
  // Step 5: P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 || [u mod 256]^1 || [n]^4 || [t]^4.
  const block p = {1,
                   2,
                   1,
                   static_cast<std::uint8_t>(radix_ >> 16),
                   static_cast<std::uint8_t>(radix_ >> 8),
                   static_cast<std::uint8_t>(radix_),
                   10,
                   static_cast<std::uint8_t>(u_ % 256),
                   static_cast<std::uint8_t>(n_ >> 24),
                   static_cast<std::uint8_t>(n_ >> 16),
                   static_cast<std::uint8_t>(n_ >> 8),
                   static_cast<std::uint8_t>(n_),
                   static_cast<std::uint8_t>(t >> 24),
                   static_cast<std::uint8_t>(t >> 16),
                   static_cast<std::uint8_t>(t >> 8),
                   static_cast<std::uint8_t>(t)};
  if (!enc_.encrypt(p.data(), cipher_p_.data(), 1)) return false;
  // Step 6.i: Q = T || [0]^((-t-b-1) mod 16) || [i]^1 || [NUM(B)]^b; all but [i] and NUM(B) fixed.
  q_header_ = t + (16 - (t + b_ + 1) % 16) % 16;
  q_.assign(q_header_ + 1 + b_, 0);
  std::copy(tweak_.begin(), tweak_.end(), q_.begin());
  // Step 6.iii: S = R || CIPH(R xor [1]^16) || ... ; the counters [j]^16 laid out once.
  const std::size_t blocks = (d_ + block_size - 1) / block_size;
  s_.assign(blocks * block_size, 0);
  counters_.assign(blocks * block_size, 0);
  for (std::size_t j = 1; j < blocks; ++j)
    for (std::size_t k = 0; k < 8; ++k)
      counters_[j * block_size + block_size - 1 - k] = static_cast<std::uint8_t>(j >> (8 * k));
  return detail::num_of(a_.get(), x.substr(0, u_), radix_, false) &&
         detail::num_of(b_num_.get(), x.substr(u_), radix_, false);
}

// Steps 6.i to 6.iv: Q for round i over `half`, R = PRF(P || Q), y = NUM(S).
bool ff1_call::prf_and_expand(const BIGNUM* half, int i) {
  q_[q_header_] = static_cast<std::uint8_t>(i);
  if (BN_bn2binpad(half, q_.data() + q_header_ + 1, static_cast<int>(b_)) < 0) return false;
  block r = cipher_p_;  // CBC-MAC with a zero IV, P already through
  for (std::size_t off = 0; off < q_.size(); off += block_size) {
    for (std::size_t k = 0; k < block_size; ++k) r[k] ^= q_[off + k];
    if (!enc_.encrypt(r.data(), r.data(), 1)) return false;
  }
  const std::size_t blocks = s_.size() / block_size;
  for (std::size_t j = 1; j < blocks; ++j)
    for (std::size_t k = 0; k < block_size; ++k) s_[j * block_size + k] = r[k] ^ counters_[j * block_size + k];
  if (blocks > 1 && !enc_.encrypt(s_.data() + block_size, s_.data() + block_size, blocks - 1)) return false;
  std::copy(r.begin(), r.end(), s_.begin());
  OPENSSL_cleanse(r.data(), r.size());
  return BN_bin2bn(s_.data(), static_cast<int>(d_), y_.get()) != nullptr;
}

// One round: encryption c = (NUM(A) + y) mod radix^m, A = B, B = c; decryption (Algorithm 8)
// c = (NUM(B) - y) mod radix^m, B = A, A = c. The round numbers run 0..9 up or down.
bool ff1_call::round(int i, bool encrypt) {
  const BIGNUM* modulus = i % 2 == 0 ? mod_u_.get() : mod_v_.get();
  if (!prf_and_expand(encrypt ? b_num_.get() : a_.get(), i)) return false;
  if (encrypt) {
    if (BN_mod_add(c_.get(), a_.get(), y_.get(), modulus, nums_.ctx()) != 1) return false;
    std::swap(a_, b_num_);  // A = B
    std::swap(b_num_, c_);  // B = c
  } else {
    if (BN_mod_sub(c_.get(), b_num_.get(), y_.get(), modulus, nums_.ctx()) != 1) return false;
    std::swap(b_num_, a_);  // B = A
    std::swap(a_, c_);      // A = c
  }
  return true;
}

bool ff1_call::output(std::string& out) {
  out.assign(n_, '0');
  return detail::str_of(a_.get(), radix_, out.data(), u_, false) &&
         detail::str_of(b_num_.get(), radix_, out.data() + u_, v_, false);
}

result_or_failure<std::string> ff1_call::run(std::string_view x, bool encrypt) {
  if (!prepare(x)) return detail::bignum_failure(mode);
  for (int step = 0; step < rounds; ++step)
    if (!round(encrypt ? step : rounds - 1 - step, encrypt)) return detail::bignum_failure(mode);
  std::string out;
  if (!output(out)) return detail::bignum_failure(mode);
  return out;
}

result_or_failure<std::string> ff1(const aes_block_cipher& cipher, byte_view tweak, std::string_view x, unsigned radix,
                                   bool encrypt) {
  if (auto r = detail::check_radix(mode, radix); !r) return r.as_failure();
  if (tweak.size() > ff1_max_tweak_size)
    return fail(errc::invalid_tweak, "FF1: a tweak of " + std::to_string(tweak.size()) +
                                         " bytes is too long: at most " + std::to_string(ff1_max_tweak_size));
  if (auto r = detail::check_numeral_string({mode, ff1_max_length, {}}, x, radix); !r) return r.as_failure();
  auto enc = detail::block_encryptor::copy_of(cipher, mode);
  if (!enc) return enc.as_failure();
  auto nums = detail::bignums::make(mode);
  if (!nums) return nums.as_failure();
  ff1_call call(std::move(enc).value(), std::move(nums).value(), tweak, x.size(), radix);
  return call.run(x, encrypt);
}

result_or_failure<std::string> guarded(const aes_block_cipher& cipher, byte_view tweak, std::string_view x,
                                       unsigned radix, bool encrypt) noexcept {
  try {
    return ff1(cipher, tweak, x, radix, encrypt);
  } catch (const std::bad_alloc&) {
    return failure(std::make_error_code(std::errc::not_enough_memory));
  } catch (const std::exception&) {
    return failure(make_error_code(errc::crypto_failure));
  }
}

}  // namespace

result_or_failure<std::string> ff1_encrypt(const aes_block_cipher& cipher, byte_view tweak,
                                           std::string_view numeral_string, unsigned radix) {
  return guarded(cipher, tweak, numeral_string, radix, true);
}

result_or_failure<std::string> ff1_decrypt(const aes_block_cipher& cipher, byte_view tweak,
                                           std::string_view numeral_string, unsigned radix) {
  return guarded(cipher, tweak, numeral_string, radix, false);
}

}  // namespace nodus::fpe
