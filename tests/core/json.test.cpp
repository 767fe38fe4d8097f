// nodus::json: values, the strict parser (every error with its message, the limits) and the writer.
#include "nodus/core/json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <ostream>  // doctest prints std::error_code with it
#include <stdexcept>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace json = nodus::json;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

json::value parsed(std::string_view text, json::parse_limits limits = {}) {
  INFO("text: " << std::string(text));
  auto r = json::parse(text, limits);
  REQUIRE_MESSAGE(r.has_value(), r.error().reason);
  return std::move(r).value();
}

// The failure's reason, checking its code too.
std::string refusal(std::string_view text, nodus::errc code = nodus::errc::malformed, json::parse_limits limits = {}) {
  INFO("text: " << std::string(text));
  auto r = json::parse(text, limits);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == code);
  return r.error().reason;
}

}  // namespace

TEST_CASE("every kind of value is made, inspected and converted") {
  const json::value null_value, from_nullptr(nullptr), yes(true), i(42), d(2.5), s("text"),
      none(static_cast<const char*>(nullptr));
  const json::value a(json::array{1, "a"}), o(json::object{{"k", 1}});
  CHECK(null_value.is_null());
  CHECK(from_nullptr.is_null());
  CHECK(none.is_null());
  CHECK(yes.is_bool());
  CHECK(*yes.as_bool());
  CHECK((i.is_number() && i.is_integer() && d.is_number() && !d.is_integer()));
  CHECK(i.as_int() == 42);
  CHECK(i.as_double() == 42.0);
  CHECK(d.as_double() == 2.5);
  CHECK_FALSE(d.as_int());
  CHECK(*s.as_string() == "text");
  CHECK(json::value(std::string("x")) == json::value("x"sv));
  CHECK(a.as_array()->size() == 2);
  CHECK(o.find("k")->as_int() == 1);
  CHECK(o.kind() == json::kind::object);
  CHECK(json::describe(a.kind()) == "an array");
  // Asking for the wrong kind gives nothing, never an exception.
  for (const auto* v : {&null_value, &yes, &i, &d, &s, &a, &o}) {
    CHECK(v->as_bool().has_value() == v->is_bool());
    CHECK(v->as_double().has_value() == v->is_number());
    CHECK((v->as_string() != nullptr) == v->is_string());
    CHECK((v->as_array() != nullptr) == v->is_array());
    CHECK((v->as_object() != nullptr) == v->is_object());
    if (!v->is_object()) CHECK(v->find("k") == nullptr);
  }
}

TEST_CASE("integers of every type, and int64's edges") {
  CHECK(json::value(5u).as_int() == 5);
  CHECK(json::value(5l).as_int() == 5);
  CHECK(json::value(-5ll).as_int() == -5);
  CHECK(json::value(5ul).as_int() == 5);
  CHECK(json::value(std::uint64_t{INT64_MAX}).is_integer());
  const json::value huge(std::numeric_limits<unsigned long long>::max());
  CHECK_FALSE(huge.is_integer());
  CHECK(huge.as_double() == 0x1p64);
  CHECK_FALSE(huge.as_int());

  CHECK(parsed("9223372036854775807").as_int() == INT64_MAX);
  CHECK(parsed("-9223372036854775808").as_int() == INT64_MIN);
  CHECK(parsed("-9223372036854775808").is_integer());
  const auto above = parsed("9223372036854775808"), below = parsed("-9223372036854775809");
  CHECK((!above.is_integer() && above.as_double() == 0x1p63 && !above.as_int()));
  CHECK((!below.is_integer() && below.as_double() == -0x1p63 && below.as_int() == INT64_MIN));
  CHECK(parsed("-0").is_integer());
  CHECK(parsed("1.0").as_int() == 1);
  CHECK(parsed("1e2").as_int() == 100);
  CHECK_FALSE(parsed("1.5").as_int());
  CHECK(json::dump(json::value(INT64_MIN)) == "-9223372036854775808");
}

TEST_CASE("numbers compare by exact value, other kinds by kind and contents") {
  CHECK(json::value(1) == json::value(1.0));
  CHECK(json::value(1) != json::value(1.5));
  CHECK(json::value((std::int64_t{1} << 53) | 1) != json::value(0x1p53));  // not equal through a rounding
  CHECK(json::value(INT64_MAX) != json::value(0x1p63));
  CHECK(json::value(INT64_MIN) == json::value(-0x1p63));
  CHECK(json::value(0.0) == json::value(-0.0));
  CHECK(json::value(true) != json::value(1));
  CHECK(json::value("1") != json::value(1));
  CHECK(json::value() == json::value(nullptr));
  CHECK(json::value(json::array{1, 2}) != json::value(json::array{2, 1}));
  CHECK(json::value(json::object{{"a", 1}, {"b", 2}}) != json::value(json::object{{"b", 2}, {"a", 1}}));
  CHECK(json::value(json::object{{"a", json::array{1.0}}}) == json::value(json::object{{"a", json::array{1}}}));
}

TEST_CASE("objects and arrays are built with operator[] and push_back") {
  json::value v;
  v["name"] = "nodus";
  v["port"] = 4000;
  v["name"] = "hub";  // replaces, never duplicates
  v["tags"].push_back("a");
  v["tags"].push_back(json::value{});
  CHECK(json::dump(v) == R"({"name":"hub","port":4000,"tags":["a",null]})");
  *v.find("port") = 4001;
  v.as_object()->emplace_back("extra", true);
  CHECK(json::dump(v) == R"({"name":"hub","port":4001,"tags":["a",null],"extra":true})");
  CHECK(v.find("missing") == nullptr);

  json::value number(1), array_value = json::array{}, object_value = json::object{};
  CHECK_THROWS_AS((void)number["a"], std::logic_error);
  CHECK_THROWS_AS((void)array_value["a"], std::logic_error);
  CHECK_THROWS_AS(number.push_back(1), std::logic_error);
  CHECK_THROWS_AS(object_value.push_back(1), std::logic_error);
  array_value.push_back(2);
  CHECK(json::dump(array_value) == "[2]");
}

TEST_CASE("compact text reads and writes back unchanged") {
  for (const std::string text : {"null",
                                 "true",
                                 "false",
                                 "0",
                                 "-1",
                                 "9223372036854775807",
                                 "-9223372036854775808",
                                 "0.5",
                                 "-0.0",
                                 "1e+300",
                                 "5e-324",
                                 "1.0",
                                 R"("")",
                                 R"("a\"b\\c\n\u0001")",
                                 "[]",
                                 "{}",
                                 "[1,[2,[3,{}]]]",
                                 R"({"a":{"b":[true,null]},"c":"","d":-2.5e-07})",
                                 "\"\xc3\xa9\xf0\x9f\x98\x80\"",
                                 R"({"":[{"":{}}]})"}) {
    CAPTURE(text);
    const auto v = parsed(text);
    CHECK(json::dump(v) == text);
    CHECK(parsed(json::dump(v, true)) == v);
  }
  CHECK(json::dump(parsed(" [ 1 , {\"a\" : \"\\/\" } ]\r\n\t")) == R"([1,{"a":"/"}])");
}

TEST_CASE("doubles are written in their shortest form, read back exactly and as doubles") {
  CHECK(json::dump(1.0) == "1.0");
  CHECK(json::dump(-0.0) == "-0.0");
  CHECK(json::dump(0.1) == "0.1");
  CHECK(json::dump(1e16) == "1e+16");
  CHECK(json::dump(0x1p63) == "9223372036854775808.0");
  CHECK(json::dump(std::nan("")) == "null");
  CHECK(json::dump(json::array{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) ==
        "[null,null]");
  for (const double d :
       {0.1 + 0.2, 1.0 / 3, std::numbers::pi, std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
        std::numeric_limits<double>::denorm_min(), -1e-300, 123456789012345683968.0, 4.35, -0.0}) {
    CAPTURE(d);
    const auto back = parsed(json::dump(d));
    CHECK_FALSE(back.is_integer());
    CHECK(std::signbit(*back.as_double()) == std::signbit(d));
    CHECK(*back.as_double() == d);
  }
}

TEST_CASE("numbers too small for a double read as zero; too large ones are refused") {
  CHECK(parsed("1e-400").as_double() == 0.0);
  CHECK(std::signbit(*parsed("-1e-400").as_double()));
  CHECK(parsed("0.000000000000000000000000000000001e-300").as_double() == 0.0);
  CHECK(parsed("123.456e-789").as_double() == 0.0);
  CHECK(parsed("-123123123123123123123123123123").as_double() == -1.2312312312312312e29);
  CHECK(refusal("1e400") == "JSON: number out of range at offset 0");
  CHECK(refusal("[-1.7976931348623159e308]") == "JSON: number out of range at offset 1");
  CHECK(refusal("[1000000000000000000000000000000000000e300]") == "JSON: number out of range at offset 1");
  CHECK(parsed("1.7976931348623157e308").as_double() == std::numeric_limits<double>::max());
}

TEST_CASE("string escapes and surrogate pairs decode to UTF-8") {
  CHECK(*parsed(R"("\"\\\/\b\f\n\r\t")").as_string() == "\"\\/\b\f\n\r\t");
  CHECK(*parsed(R"("\u0041\u00e9\u20AC\ud83d\uDE00\u0000")").as_string() == "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0"s);
  CHECK(*parsed(R"("\uDBFF\uDFFF\uD800\uDC00")").as_string() == "\xf4\x8f\xbf\xbf\xf0\x90\x80\x80");
  CHECK(parsed(R"({"a\u0000b":1})").as_object()->front().first == "a\0b"s);
}

TEST_CASE("dump escapes quotes, backslashes and control characters") {
  CHECK(json::dump("\"\\/\b\f\n\r\t") == R"("\"\\/\b\f\n\r\t")");
  CHECK(json::dump("\0\x01\x1f\x7f"s) == R"("\u0000\u0001\u001f)"
                                         "\x7f\"");
  CHECK(json::dump(json::object{{"k\n", "v"}}) == R"({"k\n":"v"})");
}

TEST_CASE("dump replaces invalid UTF-8 with U+FFFD, one per maximal subpart") {
  const std::string r = "\xef\xbf\xbd";
  const std::pair<std::string, std::string> cases[] = {
      {"\x80", r},  // a lone continuation byte
      {"a\xe2\x82"
       "b",
       "a" + r + "b"},                                           // a truncated 3-byte sequence
      {"\xc0\xaf", r + r},                                       // an overlong '/'
      {"\xed\xa0\x80", r + r + r},                               // a UTF-8-encoded surrogate
      {"\xf4\x90\x80\x80", r + r + r + r},                       // above U+10FFFF
      {"\xf0\x9f\x98", r},                                       // a truncated 4-byte sequence
      {"\xff\xfe", r + r},                                       // bytes no UTF-8 has
      {"\xf0\x9f\x98\x80\xc3\xa9", "\xf0\x9f\x98\x80\xc3\xa9"},  // valid, unchanged
  };
  for (const auto& [bytes, expected] : cases) {
    CAPTURE(bytes);
    const auto text = json::dump(json::value(bytes));
    CHECK(text == "\"" + expected + "\"");
    CHECK(*parsed(text).as_string() == expected);
  }
}

TEST_CASE("parse accepts exactly well-formed UTF-8") {
  for (const std::string ok : {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
                               "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    CAPTURE(ok);
    CHECK(*parsed("\""s + ok + "\"").as_string() == ok);
  }
  for (const std::string bad : {"\x80", "\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x8f\xbf\xbf",
                                "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xe2\x82"}) {
    CAPTURE(bad);
    CHECK(refusal("[\"a"s + bad + "\"]") == "JSON: invalid UTF-8 in a string at offset 3");
  }
}

TEST_CASE("every error says what and where") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "expected a value at offset 0 (the end of the text)"},
      {" \n", "expected a value at offset 2 (the end of the text)"},
      {"[1,]", "expected a value at offset 3"},
      {"\0"sv, "expected a value at offset 0"},
      {".5", "expected a value at offset 0"},
      {"+1", "expected a value at offset 0"},
      {"NaN", "expected a value at offset 0"},
      {R"({"a" 1})", "expected ':' after an object key at offset 5"},
      {R"({"a")", "expected ':' after an object key at offset 4 (the end of the text)"},
      {R"({"a":1,})", "expected a string key in an object at offset 7"},
      {"{1:2}", "expected a string key in an object at offset 1"},
      {"[1 2]", "expected ',' or ']' after an array element at offset 3"},
      {"[1,2", "expected ',' or ']' after an array element at offset 4 (the end of the text)"},
      {R"({"a":1 "b":2})", "expected ',' or '}' after an object member at offset 7"},
      {"[1] x", "unexpected text after the value at offset 4"},
      {"tru", "expected 'true' at offset 0"},
      {"[fals]", "expected 'false' at offset 1"},
      {"nul", "expected 'null' at offset 0"},
      {R"("abc)", "unterminated string at offset 0"},
      {R"(["a\)", "unterminated string at offset 1"},
      {"\"a\nb\"", "control character 0x0a in a string (it must be escaped) at offset 2"},
      {R"("\x")", "invalid escape '\\x' in a string at offset 1"},
      {"\"\\\x01\"", "invalid escape ('\\' then byte 0x01) in a string at offset 1"},
      {R"("\u12")", "\\u escape without 4 hex digits at offset 1"},
      {R"("ab\u12G4")", "\\u escape without 4 hex digits at offset 3"},
      {R"("\uDC00")", "lone surrogate \\uDC00 in a string at offset 1"},
      {R"("\ud800\u0041")", "lone surrogate \\uD800 in a string at offset 1"},
      {R"("\uD800")", "lone surrogate \\uD800 in a string at offset 1"},
      {"\"\xff\"", "invalid UTF-8 in a string at offset 1"},
      {"01", "leading zero in a number at offset 0"},
      {"[-012]", "leading zero in a number at offset 1"},
      {"-", "expected a digit in a number at offset 1 (the end of the text)"},
      {"-a", "expected a digit in a number at offset 1"},
      {"1.", "expected a digit after '.' in a number at offset 2 (the end of the text)"},
      {"1.e5", "expected a digit after '.' in a number at offset 2"},
      {"1e", "expected a digit in a number's exponent at offset 2 (the end of the text)"},
      {"[1e+]", "expected a digit in a number's exponent at offset 4"},
      {"1e400", "number out of range at offset 0"},
      {R"({"a":1,"a":2})", "duplicate key \"a\" in an object at offset 7"},
  };
  for (const auto& [text, what] : cases) CHECK(refusal(text) == "JSON: "s + std::string(what));
}

TEST_CASE("nesting deeper than max_depth is too_large, and does not recurse further") {
  const auto nested = [](std::size_t n) { return std::string(n, '[') + std::string(n, ']'); };
  CHECK(parsed(nested(64)).is_array());
  CHECK(refusal(nested(65), nodus::errc::too_large) == "JSON: arrays and objects nested deeper than 64 at offset 64");
  CHECK(refusal(std::string(1'000'000, '['), nodus::errc::too_large) ==
        "JSON: arrays and objects nested deeper than 64 at offset 64");
  std::string objects;
  for (int i = 0; i < 3; ++i) objects += R"({"a":)";
  objects += "1}}}";
  CHECK(parsed(objects, {.max_depth = 3}).find("a")->find("a")->find("a")->as_int() == 1);
  CHECK(refusal(objects, nodus::errc::too_large, {.max_depth = 2}) ==
        "JSON: arrays and objects nested deeper than 2 at offset 10");
  CHECK(parsed("\"scalar\"", {.max_depth = 0}).is_string());
  CHECK(refusal("[]", nodus::errc::too_large, {.max_depth = 0}) ==
        "JSON: arrays and objects nested deeper than 0 at offset 0");
}

TEST_CASE("text longer than max_size is too_large") {
  CHECK(parsed("1234567890", {.max_size = 10}).as_int() == 1234567890);
  CHECK(refusal("12345678901", nodus::errc::too_large, {.max_size = 10}) ==
        "JSON: text of 11 bytes is over the limit of 10 bytes");
  const std::string big = "\"" + std::string((1 << 20) - 2, 'x') + "\"";
  CHECK(parsed(big).as_string()->size() == (1 << 20) - 2);
  CHECK(refusal(big + " ", nodus::errc::too_large) == "JSON: text of 1048577 bytes is over the limit of 1048576 bytes");
}

TEST_CASE("a duplicate key is refused in small and large objects; members keep their order") {
  std::string text = "{";
  for (int i = 0; i < 5000; ++i) text += "\"k" + std::to_string(4999 - i) + "\":" + std::to_string(i) + ",";
  text += R"("inner":{"k1":1,"k2":2}})";
  const auto v = parsed(text);
  CHECK(v.as_object()->size() == 5001);
  CHECK(v.as_object()->front().first == "k4999");
  CHECK(v.find("k0")->as_int() == 4999);
  text.insert(text.size() - 1, R"(,"k2500":0)");
  const auto offset = text.size() - 10;  // the key's quote
  CHECK(refusal(text) == "JSON: duplicate key \"k2500\" in an object at offset " + std::to_string(offset));
  CHECK(refusal(R"({"a":{"b":1,"b":2}})") == "JSON: duplicate key \"b\" in an object at offset 12");
  CHECK(refusal(R"({"\u0061":1,"a":2})") == "JSON: duplicate key \"a\" in an object at offset 12");
  CHECK(parsed(R"({"a":1,"A":2,"a ":3})").as_object()->size() == 3);
}

TEST_CASE("pretty output: two-space indent, one element or member per line") {
  const auto v = parsed(R"({"a":1,"b":[true,{}],"c":{"d":[]},"e":[1,"x"]})");
  CHECK(json::dump(v, true) == R"({
  "a": 1,
  "b": [
    true,
    {}
  ],
  "c": {
    "d": []
  },
  "e": [
    1,
    "x"
  ]
})");
  CHECK(json::dump(json::value(2.5), true) == "2.5");
  CHECK(json::dump(json::array{}, true) == "[]");
}

TEST_CASE("parse is total on short inputs and on every prefix of a document") {
  // Every 1- and 2-byte input: 10 single digits and 183 pairs are JSON (two digits not starting
  // with 0, a digit and whitespace either side, [], {}, "", and -0 to -9).
  int accepted_one = 0, accepted_two = 0;
  for (int a = 0; a < 256; ++a) {
    const char one[] = {static_cast<char>(a)};
    accepted_one += json::parse(std::string_view(one, 1)).has_value();
    for (int b = 0; b < 256; ++b) {
      const char two[] = {static_cast<char>(a), static_cast<char>(b)};
      accepted_two += json::parse(std::string_view(two, 2)).has_value();
    }
  }
  CHECK(accepted_one == 10);
  CHECK(accepted_two == 183);
  const std::string doc = R"({"a":[1,2.5e-3,"x\u00e9\ud83d\ude00",true,false,null],"b":{"c":-0}})";
  CHECK(parsed(doc).is_object());
  for (std::size_t n = 0; n < doc.size(); ++n) {
    CAPTURE(n);
    const auto r = json::parse(std::string_view(doc).substr(0, n));
    CHECK((!r && r.error().code == nodus::errc::malformed));
  }
}

// A selection of nst/JSONTestSuite's test_parsing cases (https://github.com/nst/JSONTestSuite,
// MIT licence), written inline under their file names: y_ must be accepted, n_ refused, and for
// i_ (implementation-defined) the comment says what this parser does.
TEST_CASE("JSONTestSuite: y_ cases are accepted") {
  const std::pair<const char*, std::string_view> cases[] = {
      {"y_array_arraysWithSpaces", "[[]   ]"},
      {"y_array_empty-string", R"([""])"},
      {"y_array_heterogeneous", R"([null, 1, "1", {}])"},
      {"y_array_with_1_and_newline", "[1\n]"},
      {"y_array_with_leading_space", " [1]"},
      {"y_array_with_several_null", "[1,null,null,null,2]"},
      {"y_array_with_trailing_space", "[2] "},
      {"y_number", "[123e65]"},
      {"y_number_0e+1", "[0e+1]"},
      {"y_number_0e1", "[0e1]"},
      {"y_number_after_space", "[ 4]"},
      {"y_number_double_close_to_zero",
       "[-0.000000000000000000000000000000000000000000000000000000000000000000000000000001]"},
      {"y_number_int_with_exp", "[20e1]"},
      {"y_number_minus_zero", "[-0]"},
      {"y_number_negative_int", "[-123]"},
      {"y_number_real_capital_e", "[1E22]"},
      {"y_number_real_capital_e_neg_exp", "[1E-2]"},
      {"y_number_real_capital_e_pos_exp", "[1E+2]"},
      {"y_number_real_fraction_exponent", "[123.456e78]"},
      {"y_number_simple_real", "[123.456789]"},
      {"y_object", R"({"asd":"sdf", "dfg":"fgh"})"},
      {"y_object_empty_key", R"({"":0})"},
      {"y_object_escaped_null_in_key", R"({"foo\u0000bar": 42})"},
      {"y_object_extreme_numbers", R"({ "min": -1.0e+28, "max": 1.0e+28 })"},
      {"y_object_string_unicode",
       R"({"title":"\u041f\u043e\u043b\u0442\u043e\u0440\u0430 \u0417\u0435\u043c\u043b\u0435\u043a\u043e\u043f\u0430" })"},
      {"y_object_with_newlines", "{\n\"a\": \"b\"\n}"},
      {"y_string_1_2_3_bytes_UTF-8_sequences", R"(["\u0060\u012a\u12AB"])"},
      {"y_string_accepted_surrogate_pairs", R"(["\ud83d\ude39\ud83d\udc8d"])"},
      {"y_string_allowed_escapes", R"(["\"\\\/\b\f\n\r\t"])"},
      {"y_string_backslash_and_u_escaped_zero", R"(["\\u0000"])"},
      {"y_string_comments", R"(["a/*b*/c/*d//e"])"},
      {"y_string_escaped_noncharacter", R"(["\uFFFF"])"},
      {"y_string_last_surrogates_1_and_2", R"(["\uDBFF\uDFFF"])"},
      {"y_string_nonCharacterInUTF-8_U+10FFFF", "[\"\xf4\x8f\xbf\xbf\"]"},
      {"y_string_nonCharacterInUTF-8_U+FFFF", "[\"\xef\xbf\xbf\"]"},
      {"y_string_u+2028_line_sep", "[\"\xe2\x80\xa8\"]"},
      {"y_string_utf8", "[\"\xe2\x82\xac\xf0\x9d\x84\x9e\"]"},
      {"y_string_with_del_character",
       "[\"a\x7f"
       "a\"]"},
      {"y_structure_lonely_negative_real", "-0.1"},
      {"y_structure_lonely_string", R"("asd")"},
      {"y_structure_string_empty", R"("")"},
      {"y_structure_trailing_newline", "[\"a\"]\n"},
      {"y_structure_whitespace_array", " [] "},
      {"i_number_double_huge_neg_exp (accepted as 0)", "[123.456e-789]"},
      {"i_number_real_underflow (accepted as 0)", "[123e-10000000]"},
      {"i_number_very_big_negative_int (accepted as a double)", "[-237462374673276894279832749832423479823246327846]"},
  };
  for (const auto& [name, text] : cases) {
    CAPTURE(name);
    const auto v = parsed(text);
    CHECK(parsed(json::dump(v)) == v);
  }
}

TEST_CASE("JSONTestSuite: n_ cases are refused") {
  const std::pair<const char*, std::string_view> cases[] = {
      {"n_array_1_true_without_comma", "[1 true]"},
      {"n_array_a_invalid_utf8", "[a\xe5]"},
      {"n_array_colon_instead_of_comma", R"(["": 1])"},
      {"n_array_comma_after_close", R"([""],)"},
      {"n_array_double_comma", "[1,,2]"},
      {"n_array_extra_close", R"(["x"]])"},
      {"n_array_extra_comma", R"(["",])"},
      {"n_array_incomplete", R"(["x")"},
      {"n_array_inner_array_no_comma", "[3[4]]"},
      {"n_array_invalid_utf8", "[\xff]"},
      {"n_array_just_minus", "[-]"},
      {"n_array_newlines_unclosed", "[\"a\",\n4\n,1,"},
      {"n_array_unclosed_with_object_inside", "[{}"},
      {"n_incomplete_true", "[tru]"},
      {"n_multidigit_number_then_00", "123\0"sv},
      {"n_number_+Inf", "[+Inf]"},
      {"n_number_-1.0.", "[-1.0.]"},
      {"n_number_-NaN", "[-NaN]"},
      {"n_number_.2e-3", "[.2e-3]"},
      {"n_number_0.3e+", "[0.3e+]"},
      {"n_number_0.e1", "[0.e1]"},
      {"n_number_0_capital_E+", "[0E+]"},
      {"n_number_1_000", "[1 000.0]"},
      {"n_number_1eE2", "[1eE2]"},
      {"n_number_9.e+", "[9.e+]"},
      {"n_number_U+FF11_fullwidth_digit_one", "[\xef\xbc\x91]"},
      {"n_number_expression", "[1+2]"},
      {"n_number_hex_2_digits", "[0x42]"},
      {"n_number_infinity", "[Infinity]"},
      {"n_number_invalid+-", "[0e+-1]"},
      {"n_number_minus_space_1", "[- 1]"},
      {"n_number_neg_real_without_int_part", "[-.123]"},
      {"n_number_with_alpha", "[1.2a-3]"},
      {"n_number_with_leading_zero", "[012]"},
      {"n_object_comma_instead_of_colon", R"({"x", null})"},
      {"n_object_double_colon", R"({"x"::"b"})"},
      {"n_object_garbage_at_end", R"({"a":"a" 123})"},
      {"n_object_key_with_single_quotes", "{key: 'value'}"},
      {"n_object_missing_key", R"({:"b"})"},
      {"n_object_missing_value", R"({"a":)"},
      {"n_object_repeated_null_null", "{null:null,null:null}"},
      {"n_object_trailing_comma", R"({"id":0,})"},
      {"n_object_trailing_comment", R"({"a":"b"}/**/)"},
      {"n_object_two_commas_in_a_row", R"({"a":"b",,"c":"d"})"},
      {"n_object_unterminated-value", R"({"a":"a)"},
      {"n_object_with_trailing_garbage", R"({"a": true} "x")"},
      {"n_single_space", " "},
      {"n_string_1_surrogate_then_escape_u", R"(["\uD800\u"])"},
      {"n_string_accentuated_char_no_quotes", "[\xc3\xa9]"},
      {"n_string_backslash_00", "[\"\\\0\"]"sv},
      {"n_string_escape_x", R"(["\x00"])"},
      {"n_string_escaped_ctrl_char_tab", "[\"\\\t\"]"},
      {"n_string_incomplete_escaped_character", R"(["\u00A"])"},
      {"n_string_invalid_unicode_escape", R"(["\uqqqq"])"},
      {"n_string_invalid_utf8_after_escape", "[\"\\\xe5\"]"},
      {"n_string_single_quote", "['single quote']"},
      {"n_string_start_escape_unclosed", R"(["\)"},
      {"n_string_unescaped_ctrl_char", "[\"a\0a\"]"sv},
      {"n_string_unescaped_tab", "[\"\t\"]"},
      {"n_structure_angle_bracket_.", "<.>"},
      {"n_structure_capitalized_True", "[True]"},
      {"n_structure_close_unopened_array", "1]"},
      {"n_structure_double_array", "[][]"},
      {"n_structure_lone-open-bracket", "["},
      {"n_structure_null-byte-outside-string", "[\0]"sv},
      {"n_structure_object_followed_by_closing_object", "{}}"},
      {"n_structure_trailing_#", R"({"a":"b"}#{})"},
      {"n_structure_UTF8_BOM_no_data", "\xef\xbb\xbf"},
      {"n_structure_whitespace_formfeed", "[\f]"},
      {"n_structure_whitespace_U+2060_word_joiner", "[\xe2\x81\xa0]"},
      {"i_string_1st_surrogate_but_2nd_missing (refused)", R"(["\uDADA"])"},
      {"i_string_lone_second_surrogate (refused)", R"(["\uDFAA"])"},
      {"i_string_overlong_sequence_2_bytes (refused)", "[\"\xc0\xaf\"]"},
      {"i_string_UTF-8_invalid_sequence (refused)", "[\"\xe6\x97\xa5\xd1\x88\xfa\"]"},
      {"i_structure_UTF-8_BOM_empty_object (refused)", "\xef\xbb\xbf{}"},
      {"i_number_huge_exp (refused: out of range)", "[0.4e00669999999999999999999999999999999999999999999999999]"},
      // y_ in the suite, but this API refuses a duplicate key (RFC 8259 leaves it open).
      {"y_object_duplicated_key_and_value (refused here)", R"({"a":"b","a":"b"})"},
  };
  for (const auto& [name, text] : cases) {
    CAPTURE(name);
    const auto r = json::parse(text);
    CHECK_FALSE(r.has_value());
    if (!r) CHECK(r.error().reason.rfind("JSON: ", 0) == 0);
  }
}
