#include "nodus/core/error.hpp"

namespace nodus {
namespace {

class condition_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus.condition"; }
  std::string message(int value) const override {
    switch (static_cast<condition>(value)) {
      case condition::protocol: return "protocol error";
      case condition::invalid_argument: return "invalid argument";
      case condition::not_found: return "not found";
      case condition::timeout: return "timed out";
      case condition::stopped: return "stopped";
      case condition::denied: return "denied";
      case condition::resource_exhausted: return "resource exhausted";
    }
    return "unknown condition";
  }
};

class error_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::malformed: return "malformed input";
      case errc::unsupported_version: return "unsupported version";
      case errc::too_large: return "too large";
      case errc::invalid_address: return "invalid address";
      case errc::invalid_route: return "invalid route";
      case errc::empty_route: return "empty route";
      case errc::unknown_address: return "no worker at that address";
      case errc::already_exists: return "address already in use";
      case errc::timeout: return "timed out";
      case errc::stopped: return "stopped";
      case errc::access_denied: return "access denied";
      case errc::would_deadlock: return "blocking call from a node thread would deadlock";
      case errc::not_supported: return "not supported";
      case errc::worker_failed: return "worker failed to initialize";
    }
    return "unknown error";
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::malformed:
      case errc::unsupported_version:
      case errc::too_large: return condition::protocol;
      case errc::invalid_address:
      case errc::invalid_route:
      case errc::empty_route:
      case errc::already_exists:
      case errc::would_deadlock:
      case errc::not_supported: return condition::invalid_argument;
      case errc::unknown_address: return condition::not_found;
      case errc::timeout: return condition::timeout;
      case errc::stopped:
      case errc::worker_failed: return condition::stopped;
      case errc::access_denied: return condition::denied;
    }
    return {value, *this};
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

const std::error_category& condition_category() noexcept {
  static const condition_category_impl instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

std::error_condition make_error_condition(condition c) noexcept { return {static_cast<int>(c), condition_category()}; }

}  // namespace nodus
