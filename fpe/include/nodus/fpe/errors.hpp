#pragma once
/// Error codes of nodus::fpe. Each maps onto a portable `nodus::condition`.

#include <system_error>

namespace nodus::fpe {

/// Why an FF1 or FF3-1 call, or the making of its cipher, was refused.
enum class errc {
  invalid_key = 1,  ///< an AES key not 16, 24 or 32 bytes, or a cipher that holds no key (moved from)
  invalid_radix,    ///< a radix outside 2..36
  invalid_numeral,  ///< a character that is not a digit of the radix
  invalid_length,   ///< a numeral string shorter or longer than the mode allows for the radix
  invalid_tweak,    ///< a tweak of a length the mode does not take
  crypto_failure,   ///< OpenSSL reported an internal failure
};

/// The category of `nodus::fpe::errc` ("nodus.fpe").
const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace nodus::fpe

template <>
struct std::is_error_code_enum<nodus::fpe::errc> : std::true_type {};
