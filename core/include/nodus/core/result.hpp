#pragma once
/// The result type every fallible Nodus function returns: a value or a `std::error_code`.

#include <boost/outcome/std_result.hpp>

#include "nodus/core/error.hpp"

namespace nodus {

namespace outcome = boost::outcome_v2;

/// A value of type T, or the `std::error_code` saying why there is none.
/// `result<>` is the success-or-error of an operation without a value.
template <class T = void>
using result = outcome::std_result<T>;

/// The successful `result<>`.
inline auto ok() noexcept { return outcome::success(); }

}  // namespace nodus
