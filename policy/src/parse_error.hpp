#pragma once
// The failures of parse_policy: what and where, then the text with a caret under the place.

#include <cstddef>
#include <string_view>

#include "nodus/core/failure.hpp"

namespace nodus::policy::detail {

/// `policy: WHAT at column N` (N = offset + 1), with `, AFTER` when `after` is set, then the text
/// around the offset on a line of its own and a `^` under the offset on the next.
failure error_at(std::string_view text, std::size_t offset, std::string_view what, errc code = errc::malformed,
                 std::string_view after = {});

/// The text around `offset`, on one line (control characters as spaces, "..." where it is cut),
/// and under it a `^` at `offset`; both lines indented by two spaces.
std::string caret_lines(std::string_view text, std::size_t offset);

}  // namespace nodus::policy::detail
