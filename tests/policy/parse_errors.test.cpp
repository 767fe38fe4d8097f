// Every error parse_policy gives: its code, what it says and where (the column, in bytes from 1),
// and the caret under the place.
#include <doctest/doctest.h>

#include "policy_helpers.hpp"

using namespace policy_test;

namespace {

// The reason `text` is refused with; fails the test when it parses.
std::string refusal(std::string_view text, nodus::errc code = nodus::errc::malformed) {
  const auto p = nodus::policy::parse_policy(text);
  INFO("text: ", text);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().code == code);
  return p.error().reason;
}

// The first line of the reason `text` is refused with.
std::string why(std::string_view text) { return first_line(refusal(text)); }

}  // namespace

TEST_CASE("the reason: what and where, then the text and a caret under the column") {
  CHECK(refusal(R"(subject.role = and true)") ==
        "policy: expected a string after '=' at column 16, found 'and'\n"
        "  subject.role = and true\n"
        "                 ^");
  // At the end: the caret after the last character.
  CHECK(refusal("subject.role =") ==
        "policy: expected a string after '=' at column 15, found the end\n"
        "  subject.role =\n"
        "                ^");
  // Line ends and tabs are shown as spaces, so the caret stays under its column.
  CHECK(refusal("true\nand\tfalse )") ==
        "policy: expected 'and', 'or' or the end at column 16, found ')'\n"
        "  true and false )\n"
        "                 ^");
  // UTF-8 takes one column per character on the caret line (the column itself counts bytes).
  CHECK(refusal("subject.r = \"caf\xc3\xa9\" xor") ==
        "policy: expected 'and', 'or' or the end at column 21, found 'xor'\n"
        "  subject.r = \"caf\xc3\xa9\" xor\n"
        "                     ^");
}

TEST_CASE("a long text is shown around the column, with ... where it is cut") {
  std::string text;
  for (int i = 0; i < 20; ++i) text += R"(subject.a = "x" and )";
  text += "oops and true and true and true and true and true";
  const auto reason = refusal(text);
  CHECK(first_line(reason) == "policy: unknown name 'oops' (attributes are written subject.NAME) at column 401");
  const auto shown = reason.substr(reason.find('\n') + 1);
  const auto caret_line = shown.substr(shown.find('\n') + 1);
  CHECK(shown.starts_with("  ..."));
  CHECK(shown.substr(0, shown.find('\n')).ends_with("..."));
  // The caret is under the 'o' of oops.
  CHECK(shown[caret_line.find('^')] == 'o');
  CHECK(shown.substr(caret_line.find('^'), 4) == "oops");
}

TEST_CASE("empty input") {
  CHECK(why("") == "policy: the policy is empty ('true' allows everyone, 'false' no one) at column 1");
  CHECK(why(" \n\t ") == "policy: the policy is empty ('true' allows everyone, 'false' no one) at column 1");
}

TEST_CASE("unknown names") {
  CHECK(why(R"(subjct.role = "member")") ==
        "policy: unknown name 'subjct.role' (attributes are written subject.NAME) at column 1");
  CHECK(why(R"(true and role = "member")") ==
        "policy: unknown name 'role' (attributes are written subject.NAME) at column 10");
  CHECK(why("TRUE") == "policy: unknown name 'TRUE' (keywords are lower case) at column 1");
  CHECK(why(R"(Subject.role = "x")") == "policy: unknown name 'Subject.role' (keywords are lower case) at column 1");
  CHECK(why(R"(subject.role = "member" AND true)") ==
        "policy: expected 'and', 'or' or the end at column 25, found 'AND' (keywords are lower case)");
  CHECK(why(R"(subject = "x")") == "policy: 'subject' alone (an attribute is written subject.NAME) at column 1");
  CHECK(why(R"(subject. = "x")") == "policy: expected an attribute name after 'subject.' at column 9");
  CHECK(why(R"(subject.a..b = "x")") ==
        "policy: 'a..b' is not an attribute name (segments of letters, digits, '_' and '-', joined by '.') at "
        "column 9");
  CHECK(why(R"(subject.a. = "x")") ==
        "policy: 'a.' is not an attribute name (segments of letters, digits, '_' and '-', joined by '.') at column 9");
  CHECK(why("exists(true)") == "policy: expected subject.NAME at column 8, found 'true'");
}

TEST_CASE("strings: unterminated, unknown escapes, single quotes") {
  CHECK(why(R"(subject.role = "member)") == "policy: unterminated string (no closing '\"') at column 16");
  CHECK(why(R"(subject.role = "member\")") == "policy: unterminated string (no closing '\"') at column 16");
  CHECK(why(R"(subject.role = "a\)") == "policy: unterminated string (no closing '\"') at column 16");
  CHECK(why(R"(subject.a = "x\ny")") ==
        R"(policy: unknown escape '\' then character 'n' in a string (the escapes are \" and \\) at column 15)");
  CHECK(why("subject.a = \"x\\\x01\"") ==
        R"(policy: unknown escape '\' then byte 0x01 in a string (the escapes are \" and \\) at column 15)");
  CHECK(why("subject.role = 'member'") == "policy: a single quote: strings are written in double quotes at column 16");
}

TEST_CASE("comparisons: the operator and what follows it") {
  CHECK(why(R"(subject.role "x")") ==
        "policy: expected '=', '!=' or 'in' after subject.role at column 14, found a string");
  CHECK(why("subject.role") == "policy: expected '=', '!=' or 'in' after subject.role at column 13, found the end");
  CHECK(why("subject.role != subject.x") == "policy: expected a string after '!=' at column 17, found 'subject.x'");
  CHECK(why(R"(subject.a == "x")") == "policy: '==': equality is written '=' at column 11");
  CHECK(why(R"("member" = subject.role)") ==
        "policy: expected subject.NAME, 'true', 'false', 'not', 'exists' or '(' at column 1, found a string");
}

TEST_CASE("lists after in") {
  CHECK(why(R"(subject.role in "x")") == "policy: expected '[' after 'in' at column 17, found a string");
  CHECK(why(R"(subject.role in ["a" "b"])") == "policy: expected ',' or ']' in a list at column 22, found a string");
  CHECK(why(R"(subject.role in ["a",])") == "policy: expected a string after ',' at column 22, found ']'");
  CHECK(why("subject.role in [") == "policy: expected a string or ']' at column 18, found the end");
  CHECK(why("subject.role in [admin]") == "policy: expected a string or ']' at column 18, found 'admin'");
  CHECK(why(R"(subject.role in ["a")") == "policy: expected ',' or ']' in a list at column 21, found the end");
}

TEST_CASE("parentheses, exists, and missing operands") {
  CHECK(why("(true") == "policy: unclosed '(' from column 1: expected 'and', 'or' or ')' at column 6, found the end");
  CHECK(why("((true) or false") ==
        "policy: unclosed '(' from column 1: expected 'and', 'or' or ')' at column 17, found the end");
  CHECK(why("()") == "policy: expected subject.NAME, 'true', 'false', 'not', 'exists' or '(' at column 2, found ')'");
  CHECK(why("true and") ==
        "policy: expected subject.NAME, 'true', 'false', 'not', 'exists' or '(' at column 9, found the end");
  CHECK(why("not") ==
        "policy: expected subject.NAME, 'true', 'false', 'not', 'exists' or '(' at column 4, found the end");
  CHECK(why("exists subject.x") == "policy: expected '(' after 'exists' at column 8, found 'subject.x'");
  CHECK(why("exists(subject.x") == "policy: expected ')' after exists(subject.x at column 17, found the end");
  CHECK(why(R"(exists("x"))") == "policy: expected subject.NAME at column 8, found a string");
}

TEST_CASE("trailing input") {
  CHECK(why("true false") == "policy: expected 'and', 'or' or the end at column 6, found 'false'");
  CHECK(why("true)") == "policy: expected 'and', 'or' or the end at column 5, found ')'");
  CHECK(why(R"(subject.a = "x" "y")") == "policy: expected 'and', 'or' or the end at column 17, found a string");
}

TEST_CASE("characters that start no token, and other languages' operators") {
  CHECK(why(R"(subject.a = "x" & true)") == "policy: unexpected character '&' at column 17");
  CHECK(why("true && true") == "policy: '&&': write 'and' at column 6");
  CHECK(why("true || true") == "policy: '||': write 'or' at column 6");
  CHECK(why("!true") == "policy: '!': write 'not', or '!=' for inequality at column 1");
  CHECK(why(std::string("true \x01")) == "policy: unexpected byte 0x01 at column 6");
  CHECK(why(std::string("true\0", 5)) == "policy: unexpected byte 0x00 at column 5");
  CHECK(why("true \xff") == "policy: unexpected byte 0xff at column 6");
}
