#pragma once
// What the policy tests share: parsing that fails the test with the reason, and subjects.

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "nodus/policy/policy.hpp"

namespace policy_test {

using nodus::policy::policy;
using nodus::policy::subject;

/// The policy `text` parses to; fails the test (with the parser's reason) when it does not parse.
inline policy parsed(std::string_view text) {
  auto p = nodus::policy::parse_policy(text);
  INFO("text: ", text);
  REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().reason));
  return p.value();
}

/// Whether `text` allows `s`.
inline bool allows(std::string_view text, const subject& s) { return parsed(text).allows(s); }

/// The first line of a reason: what and where.
inline std::string first_line(const std::string& reason) { return reason.substr(0, reason.find('\n')); }

}  // namespace policy_test
