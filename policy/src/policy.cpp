#include "nodus/policy/policy.hpp"

#include <fmt/format.h>

#include "expression.hpp"

namespace nodus::policy {
namespace {

std::shared_ptr<const detail::expression> shared(detail::expression e) {
  return std::make_shared<const detail::expression>(std::move(e));
}

detail::expression constant(bool value) { return {.what = detail::expression::kind::constant, .constant = value}; }

// Every policy's canonical text is within max_text_size, so that it always parses back: a text
// near the limit can grow when written canonically (spaces around operators and after commas).
result_or_failure<std::shared_ptr<const detail::expression>> within_limit(detail::expression e) {
  const auto size = detail::write(e).size();
  if (size > max_text_size) {
    return fail(errc::too_large,
                fmt::format("policy: written canonically it takes {} bytes, more than {}", size, max_text_size));
  }
  return shared(std::move(e));
}

// For the helpers, which cannot return a failure.
std::shared_ptr<const detail::expression> within_limit_or_throw(detail::expression e) {
  auto root = within_limit(std::move(e));
  if (!root) throw nodus::error(root.error().code, root.error().reason);
  return std::move(root).value();
}

}  // namespace

policy::policy() : root_(shared(constant(false))) {}

policy::policy(std::shared_ptr<const detail::expression> root) : root_(std::move(root)) {}

policy policy::everyone() { return policy(shared(constant(true))); }

policy policy::nobody() { return policy(); }

policy policy::identifiers(std::vector<std::string> ids) {
  if (ids.size() > max_list_size) {
    throw nodus::error(errc::too_large,
                       fmt::format("policy: {} identifiers, more than the {} a list holds", ids.size(), max_list_size));
  }
  return policy(within_limit_or_throw({.what = detail::expression::kind::one_of,
                                       .attribute = std::string(detail::identifier_name),
                                       .values = std::move(ids)}));
}

policy policy::attribute_equals(std::string_view name, std::string value) {
  if (!detail::is_attribute_name(name))
    throw nodus::error(errc::malformed, fmt::format("policy: '{}' is not an attribute name", name));
  return policy(within_limit_or_throw(
      {.what = detail::expression::kind::equals, .attribute = std::string(name), .values = {std::move(value)}}));
}

bool policy::allows(const subject& s) const { return detail::evaluate(*root_, s); }

std::string policy::text() const { return detail::write(*root_); }

bool operator==(const policy& a, const policy& b) { return *a.root_ == *b.root_; }

result_or_failure<policy> parse_policy(std::string_view text) {
  auto parsed = detail::parse_expression(text);
  if (!parsed) return outcome::failure(std::move(parsed).error());
  auto root = within_limit(std::move(parsed).value());
  if (!root) return outcome::failure(std::move(root).error());
  return policy(std::move(root).value());
}

}  // namespace nodus::policy
