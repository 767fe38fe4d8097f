#include "nodus/core/bytes.hpp"

#include <iterator>

#include <fmt/format.h>

namespace nodus {

std::string printable(byte_view data) {
  std::string out;
  out.reserve(data.size());
  for (const auto b : data) {
    if (b >= 0x20 && b < 0x7f && b != '\\')
      out.push_back(static_cast<char>(b));
    else
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", b);
  }
  return out;
}

}  // namespace nodus
