#include "nodus/authority/errors.hpp"

#include <string>

#include "nodus/core/error.hpp"

namespace nodus::authority {
namespace {

class credential_category final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus.authority.credential"; }
  std::string message(int e) const override {
    switch (static_cast<credential_error>(e)) {
      case credential_error::malformed: return "a malformed credential";
      case credential_error::wrong_issuer: return "a credential from another authority";
      case credential_error::bad_signature: return "a credential whose signature does not verify";
      case credential_error::expired: return "an expired credential";
      case credential_error::not_yet_valid: return "a credential not valid yet";
      case credential_error::wrong_subject: return "a credential about another identity";
    }
    return "credential error " + std::to_string(e);
  }
  std::error_condition default_error_condition(int e) const noexcept override {
    if (static_cast<credential_error>(e) == credential_error::malformed)
      return make_error_condition(condition::protocol);
    return make_error_condition(condition::denied);
  }
};

class enrollment_category final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus.authority.enrollment"; }
  std::string message(int e) const override {
    switch (static_cast<enrollment_error>(e)) {
      case enrollment_error::ticket_used_up: return "ticket used up";
      case enrollment_error::ticket_expired: return "ticket expired";
      case enrollment_error::unknown_ticket: return "unknown ticket";
      case enrollment_error::not_an_administrator: return "not an administrator";
      case enrollment_error::not_a_member: return "not a member";
      case enrollment_error::bad_request: return "a bad request to the authority";
      case enrollment_error::unavailable: return "the authority could not answer";
      case enrollment_error::unreachable: return "the authority did not answer";
    }
    return "enrollment error " + std::to_string(e);
  }
  std::error_condition default_error_condition(int e) const noexcept override {
    switch (static_cast<enrollment_error>(e)) {
      case enrollment_error::bad_request: return make_error_condition(condition::protocol);
      case enrollment_error::unavailable: return make_error_condition(condition::resource_exhausted);
      case enrollment_error::unreachable: return make_error_condition(condition::timeout);
      case enrollment_error::unknown_ticket: return make_error_condition(condition::not_found);
      default: return make_error_condition(condition::denied);
    }
  }
};

}  // namespace

const std::error_category& credential_error_category() noexcept {
  static const credential_category c;
  return c;
}
std::error_code make_error_code(credential_error e) noexcept {
  return {static_cast<int>(e), credential_error_category()};
}
const std::error_category& enrollment_error_category() noexcept {
  static const enrollment_category c;
  return c;
}
std::error_code make_error_code(enrollment_error e) noexcept {
  return {static_cast<int>(e), enrollment_error_category()};
}

}  // namespace nodus::authority
