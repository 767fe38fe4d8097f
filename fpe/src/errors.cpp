#include "nodus/fpe/errors.hpp"

#include <string>

#include "nodus/core/error.hpp"

namespace nodus::fpe {
namespace {

class error_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus.fpe"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_key: return "invalid AES key";
      case errc::invalid_radix: return "unsupported radix";
      case errc::invalid_numeral: return "character not in the radix's alphabet";
      case errc::invalid_length: return "numeral string of a length the mode does not allow";
      case errc::invalid_tweak: return "tweak of a length the mode does not allow";
      case errc::crypto_failure: return "cryptographic library failure";
    }
    return "unknown fpe error";
  }

  // As in the vault: a library failure is environmental, not the caller's fault.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_key:
      case errc::invalid_radix:
      case errc::invalid_numeral:
      case errc::invalid_length:
      case errc::invalid_tweak: return nodus::condition::invalid_argument;
      case errc::crypto_failure: return nodus::condition::resource_exhausted;
    }
    return {value, *this};
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace nodus::fpe
