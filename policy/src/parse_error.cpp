#include "parse_error.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace nodus::policy::detail {
namespace {

// How much of a long text is shown around the column (the line stays readable in a log).
constexpr std::size_t shown_before = 60;
constexpr std::size_t shown_after = 40;

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

}  // namespace

failure error_at(std::string_view text, std::size_t offset, std::string_view what, errc code, std::string_view after) {
  const auto tail = after.empty() ? std::string() : fmt::format(", {}", after);
  return {code, fmt::format("policy: {} at column {}{}\n{}", what, offset + 1, tail, caret_lines(text, offset))};
}

std::string caret_lines(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  auto first = offset > shown_before ? offset - shown_before : 0;
  while (first > 0 && first < offset && is_continuation(text[first])) ++first;
  const auto last = std::min(text.size(), offset + shown_after);
  std::string line = first > 0 ? "..." : "";
  // The caret goes under the offset's character: UTF-8 continuation bytes take no column.
  std::size_t caret = line.size();
  for (auto i = first; i < last; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    line += byte < 0x20 || byte == 0x7f ? ' ' : text[i];
    if (i < offset && !is_continuation(text[i])) ++caret;
  }
  if (last < text.size()) line += "...";
  return fmt::format("  {}\n  {}^", line, std::string(caret, ' '));
}

}  // namespace nodus::policy::detail
