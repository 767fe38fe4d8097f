// text(): the canonical form, and parse(text()) == the policy.
#include <doctest/doctest.h>

#include "policy_helpers.hpp"

using namespace policy_test;

namespace {

// `text`'s canonical form, checked to reparse to an equal policy that writes the same text.
std::string canonical(std::string_view text) {
  const auto p = parsed(text);
  const auto written = p.text();
  const auto again = parsed(written);
  CHECK(again == p);
  CHECK(again.text() == written);
  return written;
}

}  // namespace

TEST_CASE("the canonical form: one space between tokens, `, ` in lists") {
  CHECK(canonical("true") == "true");
  CHECK(canonical(" false ") == "false");
  CHECK(canonical("subject.role=\"member\"") == R"(subject.role = "member")");
  CHECK(canonical("subject.role!=\"member\"") == R"(subject.role != "member")");
  CHECK(canonical("subject.role in[\"a\",\"b\"]") == R"(subject.role in ["a", "b"])");
  CHECK(canonical("subject.role in [ ]") == "subject.role in []");
  CHECK(canonical("exists( subject.a-b.c_d )") == "exists(subject.a-b.c_d)");
  CHECK(canonical("not\nnot\ttrue") == "not not true");
}

TEST_CASE("parentheses only where precedence needs them") {
  CHECK(canonical("(true)") == "true");
  CHECK(canonical("((((true))))") == "true");
  CHECK(canonical("(true and false) or true") == "true and false or true");
  CHECK(canonical("true and (false or true)") == "true and (false or true)");
  CHECK(canonical("not (true or false)") == "not (true or false)");
  CHECK(canonical("not (true and false)") == "not (true and false)");
  CHECK(canonical("(not true) and false") == "not true and false");
  CHECK(canonical("not (not true)") == "not not true");
  CHECK(canonical(R"(not (subject.a = "x"))") == R"(not subject.a = "x")");
  CHECK(canonical("(true or false) and (false or true)") == "(true or false) and (false or true)");
}

TEST_CASE("and/or chains are flattened, whatever their parentheses") {
  CHECK(canonical("(true and false) and true") == "true and false and true");
  CHECK(canonical("true and (false and true)") == "true and false and true");
  CHECK(canonical("(true or (false or (true or false)))") == "true or false or true or false");
  CHECK(parsed("(true and false) and true") == parsed("true and (false and true)"));
}

TEST_CASE("strings are written back escaped") {
  CHECK(canonical(R"(subject.a = "say \"hi\" \\o/")") == R"(subject.a = "say \"hi\" \\o/")");
  CHECK(canonical(R"(subject.a = "\\")") == R"(subject.a = "\\")");
  CHECK(canonical(R"(subject.a = "")") == R"(subject.a = "")");
  CHECK(canonical("subject.a = \"line\nend\ttab \xc3\xa9\"") == "subject.a = \"line\nend\ttab \xc3\xa9\"");
  CHECK(canonical(std::string("subject.a = \"nul\0byte\"", 22)) == std::string("subject.a = \"nul\0byte\"", 22));
}

TEST_CASE("the issue's examples round trip") {
  CHECK(canonical(R"(subject.role = "member" and subject.kafka = "producer")") ==
        R"(subject.role = "member" and subject.kafka = "producer")");
  CHECK(canonical(R"(subject.identifier = "I0123" or (subject.role in ["admin", "operator"] and)"
                  R"( not subject.suspended = "true"))") ==
        R"(subject.identifier = "I0123" or subject.role in ["admin", "operator"] and not subject.suspended = "true")");
}

TEST_CASE("the helpers' texts reparse to them") {
  const policy helpers[] = {policy::everyone(),
                            policy::nobody(),
                            policy(),
                            policy::identifiers({}),
                            policy::identifiers({"Ia", "I\"b\\"}),
                            policy::attribute_equals("kafka.topic", "a\"b")};
  for (const auto& p : helpers) {
    INFO(p.text());
    CHECK(parsed(p.text()) == p);
  }
  CHECK(policy::identifiers({"Ia", "Ib"}).text() == R"(subject.identifier in ["Ia", "Ib"])");
}
