#pragma once
/// Random names that act as capabilities: addresses, relay and stream names, client ids, flows.

#include <cstddef>
#include <string>
#include <string_view>

namespace nodus {

/// `prefix` followed by `bytes` bytes from OpenSSL's CSPRNG as lower-case hex (2 digits a byte).
/// Whoever sees any number of these learns nothing about the next. Terminates the program if
/// the CSPRNG cannot be seeded (nothing safe can be done without it).
std::string random_hex(std::string_view prefix, std::size_t bytes);

}  // namespace nodus
