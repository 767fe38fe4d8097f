// What a policy allows: every operator, precedence, missing attributes, the identifier, escapes
// and the helpers.
#include <doctest/doctest.h>

#include "policy_helpers.hpp"

using namespace policy_test;

namespace {

const subject member_producer{.identifier = "I0123456789abcdef0123456789abcdef01234567",
                              .attributes = {{"role", "member"}, {"kafka", "producer"}, {"kafka.topic", "orders"}}};
const subject stranger{};

}  // namespace

TEST_CASE("true and false: everyone and no one") {
  CHECK(allows("true", stranger));
  CHECK(allows("true", member_producer));
  CHECK_FALSE(allows("false", stranger));
  CHECK_FALSE(allows("false", member_producer));
}

TEST_CASE("= and != compare an attribute with a string, byte for byte") {
  CHECK(allows(R"(subject.role = "member")", member_producer));
  CHECK_FALSE(allows(R"(subject.role = "Member")", member_producer));
  CHECK_FALSE(allows(R"(subject.role = "member ")", member_producer));
  CHECK_FALSE(allows(R"(subject.role != "member")", member_producer));
  CHECK(allows(R"(subject.role != "admin")", member_producer));
  CHECK(allows(R"(subject.kafka.topic = "orders")", member_producer));
}

TEST_CASE("in: one of the list's strings; an empty list holds nothing") {
  CHECK(allows(R"(subject.role in ["admin", "member"])", member_producer));
  CHECK(allows(R"(subject.role in ["member"])", member_producer));
  CHECK_FALSE(allows(R"(subject.role in ["admin", "operator"])", member_producer));
  CHECK_FALSE(allows(R"(subject.role in [])", member_producer));
}

TEST_CASE("and, or, not") {
  CHECK(allows(R"(subject.role = "member" and subject.kafka = "producer")", member_producer));
  CHECK_FALSE(allows(R"(subject.role = "member" and subject.kafka = "consumer")", member_producer));
  CHECK(allows(R"(subject.role = "admin" or subject.kafka = "producer")", member_producer));
  CHECK_FALSE(allows(R"(subject.role = "admin" or subject.kafka = "consumer")", member_producer));
  CHECK(allows(R"(not subject.role = "admin")", member_producer));
  CHECK_FALSE(allows(R"(not subject.role = "member")", member_producer));
  CHECK(allows("not not true", stranger));
  CHECK(allows("true and true and true", stranger));
  CHECK_FALSE(allows("true and true and false", stranger));
  CHECK(allows("false or false or true", stranger));
}

TEST_CASE("precedence: or < and < not < comparison; parentheses regroup") {
  // and before or: `true or (false and false)`, not `(true or false) and false`.
  CHECK(allows("true or false and false", stranger));
  CHECK_FALSE(allows("(true or false) and false", stranger));
  CHECK(allows("false and false or true", stranger));
  CHECK_FALSE(allows("false and (false or true)", stranger));
  // not before and/or: `(not true) or true`, `(not false) and false`.
  CHECK(allows("not true or true", stranger));
  CHECK_FALSE(allows("not (true or true)", stranger));
  CHECK_FALSE(allows("not false and false", stranger));
  CHECK(allows("not (false and false)", stranger));
  // comparison before not: `not (subject.role = "member")`.
  CHECK_FALSE(allows(R"(not subject.role = "member" or subject.role = "admin")", member_producer));
  CHECK(parsed("true or false and false") == parsed("true or (false and false)"));
  CHECK(parsed("not true or true") == parsed("(not true) or true"));
  CHECK(parsed(R"(not subject.a = "x")") == parsed(R"(not (subject.a = "x"))"));
}

TEST_CASE("a comparison with a missing attribute is false, with every operator; exists tests presence") {
  CHECK_FALSE(allows(R"(subject.role = "member")", stranger));
  CHECK_FALSE(allows(R"(subject.role != "member")", stranger));
  CHECK_FALSE(allows(R"(subject.role in ["member", "admin"])", stranger));
  CHECK(allows(R"(not subject.role = "member")", stranger));
  CHECK(allows(R"(not subject.role != "member")", stranger));
  CHECK_FALSE(allows("exists(subject.role)", stranger));
  CHECK(allows("exists(subject.role)", member_producer));
  CHECK(allows("not exists(subject.suspended)", member_producer));
  // A present but empty value is present.
  const subject empty_role{.attributes = {{"role", ""}}};
  CHECK(allows("exists(subject.role)", empty_role));
  CHECK(allows(R"(subject.role = "")", empty_role));
  CHECK(allows(R"(subject.role != "member")", empty_role));
}

TEST_CASE("subject.identifier is the peer's identifier, never an attribute; empty counts as missing") {
  const auto& id = member_producer.identifier;
  CHECK(allows("subject.identifier = \"" + id + "\"", member_producer));
  CHECK(allows(R"(subject.identifier != "I00")", member_producer));
  CHECK(allows("exists(subject.identifier)", member_producer));
  const subject forged{.identifier = "Ireal", .attributes = {{"identifier", "Iforged"}}};
  CHECK_FALSE(allows(R"(subject.identifier = "Iforged")", forged));
  CHECK(allows(R"(subject.identifier = "Ireal")", forged));
  CHECK_FALSE(allows("exists(subject.identifier)", stranger));
  CHECK_FALSE(allows(R"(subject.identifier != "Ireal")", stranger));
}

TEST_CASE("the issue's examples") {
  const auto admin_or_listed = parsed(R"(subject.identifier = "I0123456789abcdef0123456789abcdef01234567" or)"
                                      R"( (subject.role in ["admin", "operator"] and not subject.suspended = "true"))");
  CHECK(admin_or_listed.allows(member_producer));
  CHECK(admin_or_listed.allows(subject{.attributes = {{"role", "operator"}}}));
  CHECK_FALSE(admin_or_listed.allows(subject{.attributes = {{"role", "operator"}, {"suspended", "true"}}}));
  CHECK(admin_or_listed.allows(subject{.attributes = {{"role", "admin"}, {"suspended", "false"}}}));
  CHECK_FALSE(admin_or_listed.allows(stranger));
}

TEST_CASE("escapes: \\\" and \\\\ in strings; any other byte as it is") {
  const subject quoted{.attributes = {{"motto", R"(say "hi" \o/)"}, {"utf8", "caf\xc3\xa9"}, {"tab", "a\tb"}}};
  CHECK(allows(R"(subject.motto = "say \"hi\" \\o/")", quoted));
  CHECK(allows("subject.utf8 = \"caf\xc3\xa9\"", quoted));
  CHECK(allows("subject.tab = \"a\tb\"", quoted));
}

TEST_CASE("whitespace: spaces, tabs and line ends between tokens, none needed around punctuation") {
  CHECK(parsed("subject.role=\"member\"and(true)") == parsed(R"(subject.role = "member" and true)"));
  CHECK(parsed("\n\tsubject.role\r\n in\t[\"a\",\"b\"]  ") == parsed(R"(subject.role in ["a", "b"])"));
  CHECK(parsed("exists ( subject.x )") == parsed("exists(subject.x)"));
}

TEST_CASE("helpers: everyone, nobody, identifiers, attribute_equals") {
  CHECK(policy::everyone().allows(stranger));
  CHECK(policy::everyone() == parsed("true"));
  CHECK_FALSE(policy::nobody().allows(member_producer));
  CHECK_FALSE(policy().allows(member_producer));
  CHECK(policy() == parsed("false"));

  const auto listed = policy::identifiers({"Ia", member_producer.identifier});
  CHECK(listed.allows(member_producer));
  CHECK_FALSE(listed.allows(stranger));
  CHECK_FALSE(listed.allows(subject{.identifier = "Ib"}));
  CHECK(listed == parsed(R"(subject.identifier in ["Ia", ")" + member_producer.identifier + "\"]"));
  CHECK_FALSE(policy::identifiers({}).allows(member_producer));

  const auto members = policy::attribute_equals("role", "member");
  CHECK(members.allows(member_producer));
  CHECK_FALSE(members.allows(stranger));
  CHECK(members.text() == R"(subject.role = "member")");
  CHECK(policy::attribute_equals("identifier", "Ix").allows(subject{.identifier = "Ix"}));
  CHECK_THROWS_AS(policy::attribute_equals("bad name", "x"), nodus::error);
  CHECK_THROWS_AS(policy::attribute_equals("", "x"), nodus::error);
  CHECK_THROWS_AS(policy::attribute_equals("a..b", "x"), nodus::error);
  CHECK_THROWS_AS(policy::identifiers(std::vector<std::string>(65, "I")), nodus::error);
}

TEST_CASE("policies are values: copies allow the same, equality is by expression") {
  const auto original = parsed(R"(subject.role = "member")");
  const auto copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  CHECK(copy == original);
  CHECK(copy.allows(member_producer));
  CHECK_FALSE(parsed(R"(subject.role = "member")") == parsed(R"(subject.role != "member")"));
  CHECK_FALSE(parsed(R"(subject.role = "a")") == parsed(R"(subject.role in ["a"])"));
  CHECK_FALSE(parsed("true and false") == parsed("false and true"));
}
