#include "nodus/core/host_port.hpp"

#include <algorithm>

#include "nodus/core/error.hpp"

namespace nodus {

result<std::pair<std::string, std::string>> split_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return errc::invalid_address;
  auto host = text.substr(0, colon);
  const auto port = text.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) > 65535)
    return errc::invalid_address;
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return errc::invalid_address;
    host = host.substr(1, host.size() - 2);
  }
  return std::pair{std::string(host), std::string(port)};
}

}  // namespace nodus
