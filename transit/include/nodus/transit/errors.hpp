#pragma once
/// What a transit operation can fail with, as codes that map onto Vault's HTTP statuses
/// (`http_status`), so that a client written against Vault sees the errors it expects.

#include <system_error>

namespace nodus::transit {

enum class transit_errc {
  invalid_request = 1,  ///< a missing or malformed field, a ciphertext that does not open (400)
  key_not_found,        ///< no key of that name (404 for the key's endpoints, 400 for the others, as Vault)
  permission_denied,    ///< no token, an unknown token, or a policy that does not allow (403)
  unsupported_path,     ///< no such endpoint (404)
  method_not_allowed,   ///< the endpoint exists but not with this method (405)
  internal,             ///< the vault or the disk failed (500)
};

const std::error_category& transit_category() noexcept;
inline std::error_code make_error_code(transit_errc e) noexcept { return {static_cast<int>(e), transit_category()}; }

}  // namespace nodus::transit

template <>
struct std::is_error_code_enum<nodus::transit::transit_errc> : std::true_type {};
