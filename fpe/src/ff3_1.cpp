// FF3-1, SP 800-38G Rev. 1 Algorithms 9 and 10. The cipher is already keyed with REVB(K)
// (ff3_1_cipher). As in ff1.cpp, A and B stay numbers through the eight rounds: here they are
// NUM_radix(REV(A)) and NUM_radix(REV(B)), so REV(STR^m_radix(c)) is written only at the end.
#include <openssl/crypto.h>

#include <array>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "block_encryptor.hpp"
#include "nodus/fpe/fpe.hpp"
#include "numeral.hpp"

namespace nodus::fpe {
namespace {

constexpr std::string_view mode = "FF3-1";
constexpr int rounds = 8;

using half_tweak = std::array<std::uint8_t, 4>;

result_or_failure<void> check_input(byte_view tweak, std::string_view x, unsigned radix) {
  if (auto r = detail::check_radix(mode, radix); !r) return r;
  if (tweak.size() != ff3_1_tweak_size)
    return fail(errc::invalid_tweak,
                "FF3-1: a tweak of " + std::to_string(tweak.size()) + " bytes: it must be exactly 7 bytes (56 bits)");
  return detail::check_numeral_string({mode, ff3_1_max_length(radix), "2 * floor(log_radix(2^96))"}, x, radix);
}

// The state of one FF3-1 call: u and v (step 1), T_L and T_R (step 3), and the numbers.
class ff3_1_call {
public:
  ff3_1_call(detail::block_encryptor enc, detail::bignums nums, std::size_t n, unsigned radix)
      : enc_(std::move(enc)), nums_(std::move(nums)), radix_(radix), n_(n), u_(n - n / 2), v_(n / 2) {}

  result_or_failure<std::string> run(byte_view tweak, std::string_view x, bool encrypt);

private:
  bool prepare(byte_view tweak, std::string_view x);
  bool round_value(int i, const BIGNUM* half);
  bool round(int i, bool encrypt);

  detail::block_encryptor enc_;
  detail::bignums nums_;
  unsigned radix_;
  std::size_t n_, u_, v_;  // u = ceil(n/2): A is the longer half, unlike FF1
  half_tweak left_{}, right_{};
  detail::bn_ptr a_, b_, c_, y_, mod_u_, mod_v_;
};

bool ff3_1_call::prepare(byte_view t, std::string_view x) {
  // Step 3: T_L = T[0..27] || 0^4 and T_R = T[32..55] || T[28..31] || 0^4 (bits).
  left_ = {t[0], t[1], t[2], static_cast<std::uint8_t>(t[3] & 0xf0)};
  right_ = {t[4], t[5], t[6], static_cast<std::uint8_t>((t[3] & 0x0f) << 4)};
  for (auto* n : {&a_, &b_, &c_, &y_, &mod_u_, &mod_v_}) *n = nums_.fresh();
  for (auto* n : {&a_, &b_, &c_, &y_, &mod_u_, &mod_v_})
    if (!*n) return false;
  return detail::power(mod_u_.get(), radix_, u_, nums_.ctx()) && detail::power(mod_v_.get(), radix_, v_, nums_.ctx()) &&
         detail::num_of(a_.get(), x.substr(0, u_), radix_, true) &&
         detail::num_of(b_.get(), x.substr(u_), radix_, true);
}

// Steps 4.i to 4.iv: y = NUM(REVB(CIPH_REVB(K)(REVB(P)))), P = (W xor [i]^4) || [half]^12, with
// W = T_R in even rounds and T_L in odd ones. REVB(P) is [half]^12 little-endian followed by the
// bytes of W xor [i]^4 reversed; NUM(REVB(out)) reads the output little-endian.
bool ff3_1_call::round_value(int i, const BIGNUM* half) {
  const half_tweak& w = i % 2 == 0 ? right_ : left_;
  std::array<std::uint8_t, block_size> block{};
  if (BN_bn2lebinpad(half, block.data(), 12) < 0) return false;
  block[12] = static_cast<std::uint8_t>(w[3] ^ static_cast<std::uint8_t>(i));
  block[13] = w[2];
  block[14] = w[1];
  block[15] = w[0];
  const bool done = enc_.encrypt(block.data(), block.data(), 1) &&
                    BN_lebin2bn(block.data(), static_cast<int>(block.size()), y_.get()) != nullptr;
  OPENSSL_cleanse(block.data(), block.size());
  return done;
}

// Encryption: c = (NUM(REV(A)) + y) mod radix^m, A = B, B = C; decryption (Algorithm 10):
// c = (NUM(REV(B)) - y) mod radix^m, B = A, A = C; m = u in even rounds, v in odd ones.
bool ff3_1_call::round(int i, bool encrypt) {
  const BIGNUM* modulus = i % 2 == 0 ? mod_u_.get() : mod_v_.get();
  if (!round_value(i, encrypt ? b_.get() : a_.get())) return false;
  if (encrypt) {
    if (BN_mod_add(c_.get(), a_.get(), y_.get(), modulus, nums_.ctx()) != 1) return false;
    std::swap(a_, b_);  // A = B
    std::swap(b_, c_);  // B = C
  } else {
    if (BN_mod_sub(c_.get(), b_.get(), y_.get(), modulus, nums_.ctx()) != 1) return false;
    std::swap(b_, a_);  // B = A
    std::swap(a_, c_);  // A = C
  }
  return true;
}

result_or_failure<std::string> ff3_1_call::run(byte_view tweak, std::string_view x, bool encrypt) {
  if (!prepare(tweak, x)) return detail::bignum_failure(mode);
  for (int step = 0; step < rounds; ++step)
    if (!round(encrypt ? step : rounds - 1 - step, encrypt)) return detail::bignum_failure(mode);
  std::string out(n_, '0');
  if (!detail::str_of(a_.get(), radix_, out.data(), u_, true) ||
      !detail::str_of(b_.get(), radix_, out.data() + u_, v_, true))
    return detail::bignum_failure(mode);
  return out;
}

result_or_failure<std::string> ff3_1(const ff3_1_cipher& cipher, byte_view tweak, std::string_view x, unsigned radix,
                                     bool encrypt) {
  if (auto r = check_input(tweak, x, radix); !r) return r.as_failure();
  auto enc = detail::block_encryptor::copy_of(cipher.block_cipher(), mode);
  if (!enc) return enc.as_failure();
  auto nums = detail::bignums::make(mode);
  if (!nums) return nums.as_failure();
  ff3_1_call call(std::move(enc).value(), std::move(nums).value(), x.size(), radix);
  return call.run(tweak, x, encrypt);
}

result_or_failure<std::string> guarded(const ff3_1_cipher& cipher, byte_view tweak, std::string_view x, unsigned radix,
                                       bool encrypt) noexcept {
  try {
    return ff3_1(cipher, tweak, x, radix, encrypt);
  } catch (const std::bad_alloc&) {
    return failure(std::make_error_code(std::errc::not_enough_memory));
  } catch (const std::exception&) {
    return failure(make_error_code(errc::crypto_failure));
  }
}

}  // namespace

result_or_failure<std::string> ff3_1_encrypt(const ff3_1_cipher& cipher, byte_view tweak,
                                             std::string_view numeral_string, unsigned radix) {
  return guarded(cipher, tweak, numeral_string, radix, true);
}

result_or_failure<std::string> ff3_1_decrypt(const ff3_1_cipher& cipher, byte_view tweak,
                                             std::string_view numeral_string, unsigned radix) {
  return guarded(cipher, tweak, numeral_string, radix, false);
}

}  // namespace nodus::fpe
