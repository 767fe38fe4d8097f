// The parser's bounds: text size, nesting depth, list length, each refused with too_large and
// without a crash, and accepted right at the limit.
#include <doctest/doctest.h>

#include "policy_helpers.hpp"

using namespace policy_test;
using nodus::policy::max_depth;
using nodus::policy::max_list_size;
using nodus::policy::max_text_size;

namespace {

std::string repeated(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// `true` padded with spaces to `size` bytes.
std::string text_of_size(std::size_t size) { return "true" + std::string(size - 4, ' '); }

std::string list_of(std::size_t n) {
  std::string out = "subject.role in [";
  for (std::size_t i = 0; i < n; ++i) out += (i ? ", \"" : "\"") + std::to_string(i) + "\"";
  return out + "]";
}

nodus::failure refused(std::string_view text) {
  const auto p = nodus::policy::parse_policy(text);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().code == nodus::errc::too_large);
  return p.error();
}

}  // namespace

TEST_CASE("text size: 4096 bytes parse, 4097 are refused before reading them") {
  CHECK(parsed(text_of_size(max_text_size)).allows({}));
  CHECK(refused(text_of_size(max_text_size + 1)).reason == "policy: the text is 4097 bytes, more than 4096");
  CHECK(refused(std::string(1 << 20, '(')).reason == "policy: the text is 1048576 bytes, more than 4096");
}

TEST_CASE("nesting: 32 levels of parentheses and not parse, 33 are refused") {
  CHECK(parsed(repeated("(", max_depth) + "true" + repeated(")", max_depth)).allows({}));
  CHECK(parsed(repeated("not ", max_depth) + "true").allows({}));
  CHECK(parsed(repeated("not (", max_depth / 2) + "true" + repeated(")", max_depth / 2)).allows({}));

  CHECK(first_line(refused(repeated("(", max_depth + 1) + "true" + repeated(")", max_depth + 1)).reason) ==
        "policy: nested deeper than 32 (parentheses and 'not') at column 33");
  CHECK(first_line(refused(repeated("not ", max_depth + 1) + "true").reason) ==
        "policy: nested deeper than 32 (parentheses and 'not') at column 129");
  // Mixed, and far deeper: still refused at the 33rd level, without recursing further.
  CHECK(first_line(refused(repeated("not (", 800)).reason) ==
        "policy: nested deeper than 32 (parentheses and 'not') at column 81");
}

TEST_CASE("long chains are not nesting: and/or chains of any length within the size") {
  const auto chain = "true" + repeated(" and true or false", 200);
  CHECK(chain.size() < max_text_size);
  CHECK(parsed(chain).allows({}));
  CHECK(parsed(parsed(chain).text()) == parsed(chain));
}

TEST_CASE("lists: 64 strings parse, 65 are refused at the 65th") {
  const subject last{.attributes = {{"role", "63"}}};
  CHECK(parsed(list_of(max_list_size)).allows(last));
  const auto reason = refused(list_of(max_list_size + 1)).reason;
  CHECK(first_line(reason) ==
        "policy: a list holds at most 64 strings at column " + std::to_string(list_of(max_list_size).size() + 2));
}

TEST_CASE("the canonical text stays within the limit: a text that would grow past it is refused") {
  // Comparisons written without spaces, padded to the limit: each grows by 2 bytes when written.
  std::string compact = R"(subject.a="x")";
  while (compact.size() + 16 <= max_text_size) compact += R"(and subject.a="x")";
  compact += std::string(max_text_size - compact.size(), ' ');
  REQUIRE(compact.size() == max_text_size);
  CHECK(refused(compact).reason.starts_with("policy: written canonically it takes "));

  // Near the limit but already canonical: parses, and its text reparses.
  std::string spaced = R"(subject.a = "x")";
  while (spaced.size() + 20 <= max_text_size) spaced += R"( and subject.a = "x")";
  CHECK(parsed(parsed(spaced).text()) == parsed(spaced));

  CHECK_THROWS_AS(policy::attribute_equals("a", std::string(max_text_size, 'x')), nodus::error);
  CHECK_THROWS_AS(policy::identifiers(std::vector<std::string>(2, std::string(2100, 'I'))), nodus::error);
  CHECK(policy::attribute_equals("a", std::string(max_text_size - 14, 'x')).text().size() == max_text_size);
}
