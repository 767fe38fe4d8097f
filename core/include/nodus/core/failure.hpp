#pragma once
/// A result whose error also says, in words, what went wrong: which file, which identifier.

#include <string>
#include <system_error>

#include "nodus/core/result.hpp"

namespace nodus {

/// An error code plus a sentence for people, e.g. `vault file /x/keys/k1: truncated`.
/// The code is for programs (`f.code == nodus::condition::denied`), the reason for logs and users.
struct failure {
  failure() = default;
  /// A plain error code converts implicitly, so `result<T>` errors pass into a
  /// `result_or_failure<T>` unchanged (with no reason beyond the code's message).
  failure(std::error_code c, std::string r = {})
      : code(c), reason(std::move(r)) {}  // NOLINT(google-explicit-constructor)

  std::error_code code;
  std::string reason;

  /// `reason` when it is set, else the code's message.
  std::string message() const { return reason.empty() ? code.message() : reason; }
};

/// Lets Outcome treat `failure` like an error code (e.g. when converting from `result<T>`).
inline std::error_code make_error_code(const failure& f) noexcept { return f.code; }

/// A value of type T, or a `failure` that explains itself. `.value()` on a failure throws
/// `nodus::error` with the failure's code, and its reason in `what()` (nodus/core/result.hpp).
template <class T = void>
using result_or_failure = outcome::basic_result<T, failure, detail::throw_nodus_error>;

/// A failure with code `code` and reason `reason`, ready to return from a `result_or_failure`.
inline auto fail(std::error_code code, std::string reason) {
  return outcome::failure(failure{code, std::move(reason)});
}

}  // namespace nodus
