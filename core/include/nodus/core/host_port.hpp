#pragma once
/// `host:port` text, as TCP addresses, listeners and portal targets spell it.

#include <string>
#include <string_view>
#include <utility>

#include "nodus/core/result.hpp"

namespace nodus {

/// Splits `host:port` (`[v6]:port` too, brackets removed); `errc::invalid_address` unless there
/// is a host and a decimal port 0-65535.
result<std::pair<std::string, std::string>> split_host_port(std::string_view text);

}  // namespace nodus
