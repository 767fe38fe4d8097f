#pragma once
/// The result type every fallible Nodus function returns: a value or a `std::error_code`.
///
/// One failure policy for every Nodus result (`result<T>`, `result<>` and `result_or_failure<T>`):
/// - test it first (`if (!r) ... r.error()`), or
/// - call `.value()` and let an error throw `nodus::error`, a `std::system_error` that carries the
///   `std::error_code` (`e.code() == nodus::errc::timeout`) and, for a `result_or_failure`, the
///   failure's reason in `e.what()`. `result<>::value()` throws the same way.
/// - `.error()` on a result that holds a value throws `nodus::outcome::bad_result_access`: it
///   is a programming mistake, not a failure to handle.

#include <string>
#include <system_error>

#include <boost/outcome/std_result.hpp>  // basic_result and the traits of std::error_code

#include "nodus/core/error.hpp"

namespace nodus {

namespace outcome = boost::outcome_v2;

/// What `.value()` throws on a result that holds an error: the error's code and, when there is
/// one, a sentence saying what went wrong (`e.what()`). Also thrown by the few constructors that
/// cannot return a result, e.g. `address("1#")`.
class error : public std::system_error {
public:
  /// An error with only a code; `what()` is the code's message.
  explicit error(std::error_code code) : std::system_error(code) {}
  /// An error with a code and a reason; `what()` is `reason: <code's message>`.
  error(std::error_code code, const std::string& reason) : std::system_error(code, reason) {}
};

namespace detail {
/// The policy of every Nodus result: `.value()` on an error throws `nodus::error`.
struct throw_nodus_error : outcome::policy::base {
  template <class Impl>
  static constexpr void wide_value_check(Impl&& self) {
    if (!base::_has_value(self)) {
      if (base::_has_error(self)) throw_error(base::_error(self));
      throw outcome::bad_result_access("no value");
    }
  }
  template <class Impl>
  static constexpr void wide_error_check(Impl&& self) {
    if (!base::_has_error(self)) throw outcome::bad_result_access("no error");
  }

private:
  static void throw_error(const std::error_code& code) { throw nodus::error(code); }
  template <class Failure>
  static void throw_error(const Failure& f) {  // a `nodus::failure`: code and reason
    if (f.reason.empty()) throw nodus::error(f.code);
    throw nodus::error(f.code, f.reason);
  }
};
}  // namespace detail

/// A value of type T, or the `std::error_code` saying why there is none.
/// `result<>` is the success-or-error of an operation without a value. `.value()` on an error
/// throws `nodus::error` (see the top of this header).
template <class T = void>
using result = outcome::basic_result<T, std::error_code, detail::throw_nodus_error>;

/// The successful `result<>`.
inline auto ok() noexcept { return outcome::success(); }

}  // namespace nodus
