// Fuzzes format-preserving encryption (fpe/include/nodus/fpe/fpe.hpp): FF1 and FF3-1 take
// numeral strings, tweaks and radixes from callers that pass on what users typed.
//
// Input: [config] [radix] [tweak size] [tweak bytes...] [numeral string: the rest]. Config bit 0
// picks FF3-1 over FF1; bits 1-2 the key size (16, 24, 32 bytes; 3 means 32); the key bytes are
// fixed. The radix byte and the tweak size are taken as they are (out of range on purpose).
//
// Properties besides no crash / no UB:
// - every call is total: a value, or a failure of nodus::fpe::errc (never crypto_failure) whose
//   reason starts with the mode's name, "FF1: " or "FF3-1: ";
// - encryption and decryption of the same input both succeed or both fail, with the same reason;
// - a ciphertext has the input's length and only digits of the radix, and decrypts to the input;
//   a decryption likewise encrypts back to the input;
// - the largest allocation is at most 64 bytes per input byte + 64 KiB.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "nodus/fpe/fpe.hpp"

namespace fpe = nodus::fpe;
using nodus::fuzz::allocation_watch;

namespace {

constexpr std::uint8_t key_bytes[32] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15,
                                        0x88, 0x09, 0xcf, 0x4f, 0x3c, 0xef, 0x43, 0x59, 0xd8, 0xd5, 0x80,
                                        0xaa, 0x4f, 0x7f, 0x03, 0x6d, 0x6f, 0x04, 0xfc, 0x6a, 0x94};

std::size_t key_size_of(std::uint8_t config) { return (config >> 1 & 3) == 0 ? 16 : (config >> 1 & 3) == 1 ? 24 : 32; }

template <class Result>
void check_refusal(const Result& r, std::string_view mode) {
  NODUS_FUZZ_CHECK(r.error().code.category() == fpe::error_category());
  NODUS_FUZZ_CHECK(r.error().code != fpe::errc::crypto_failure);
  NODUS_FUZZ_CHECK(r.error().reason.starts_with(mode));
}

bool in_alphabet(std::string_view s, unsigned radix) {
  static constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  return s.find_first_not_of(alphabet.substr(0, radix)) == std::string_view::npos;
}

// Runs `forward` and `backward` on x and checks the properties above.
template <class Forward, class Backward>
void check_pair(std::string_view x, unsigned radix, std::string_view mode, Forward forward, Backward backward) {
  const auto there = forward(x);
  const auto back_first = backward(x);
  NODUS_FUZZ_CHECK(bool(there) == bool(back_first));
  if (!there) {
    check_refusal(there, mode);
    check_refusal(back_first, mode);
    NODUS_FUZZ_CHECK(there.error().reason == back_first.error().reason);
    return;
  }
  NODUS_FUZZ_CHECK(there.value().size() == x.size() && in_alphabet(there.value(), radix));
  const auto back = backward(there.value());
  NODUS_FUZZ_CHECK(back && back.value() == x);
  const auto again = forward(back_first.value());
  NODUS_FUZZ_CHECK(again && again.value() == x);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nodus::fuzz::input in(data, size);
  const std::uint8_t config = in.u8();
  const unsigned radix = in.u8();
  const auto tweak = in.take(in.u8());
  const auto rest = in.rest();
  const std::string_view x(reinterpret_cast<const char*>(rest.data()), rest.size());
  const nodus::byte_view key(key_bytes, key_size_of(config));

  allocation_watch watch;
  if ((config & 1) == 0) {
    const auto cipher = fpe::aes_block_cipher::from_key(key).value();
    check_pair(
        x, radix, "FF1: ", [&](std::string_view s) { return fpe::ff1_encrypt(cipher, tweak, s, radix); },
        [&](std::string_view s) { return fpe::ff1_decrypt(cipher, tweak, s, radix); });
  } else {
    const auto cipher = fpe::ff3_1_cipher::from_key(key).value();
    check_pair(
        x, radix, "FF3-1: ", [&](std::string_view s) { return fpe::ff3_1_encrypt(cipher, tweak, s, radix); },
        [&](std::string_view s) { return fpe::ff3_1_decrypt(cipher, tweak, s, radix); });
  }
  watch.check(64 * size + 64 * 1024);
  return 0;
}
