#include "nodus/transit/errors.hpp"

#include <string>

namespace nodus::transit {
namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus.transit"; }
  std::string message(int c) const override {
    switch (static_cast<transit_errc>(c)) {
      case transit_errc::invalid_request: return "invalid request";
      case transit_errc::key_not_found: return "encryption key not found";
      case transit_errc::permission_denied: return "permission denied";
      case transit_errc::unsupported_path: return "unsupported path";
      case transit_errc::method_not_allowed: return "unsupported operation";
      case transit_errc::internal: return "internal error";
    }
    return "transit error " + std::to_string(c);
  }
};

}  // namespace

const std::error_category& transit_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace nodus::transit
