// Fuzzes the JSON parser and writer (core/include/nodus/core/json.hpp), which read and write the
// bodies of the node's HTTP/JSON control API.
//
// Input: JSON text (any bytes). The same bytes are also written as a string and as an object key,
// and their first 8 bytes as a double and as an integer, to exercise the writer on values no
// parse gives (invalid UTF-8, NaN, every double).
//
// Properties besides no crash / no UB:
// - parse is total: a value, or `malformed`/`too_large` with a reason "JSON: ... at offset N"
//   (N within the text); its largest allocation is at most 64 bytes per input byte + 64 KiB;
// - a parsed v survives parse(dump(v)) == v, compact and pretty, and dump(parse(dump(v))) ==
//   dump(v) (the text is a fixed point, so integer/double kinds and every double's bits survive);
// - the limits are exact: v parses with max_depth = depth(v) and max_size = size, and is
//   too_large with either one less;
// - dump always writes JSON that parses: a string reads back as itself when it is valid UTF-8
//   (checked against a reference decoder written here), and otherwise differs; a finite double
//   reads back with the same bits, NaN and infinities as null; an integer reads back exactly.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "nodus/core/json.hpp"

namespace json = nodus::json;
using nodus::fuzz::allocation_watch;

namespace {

std::size_t depth(const json::value& v) {
  std::size_t deepest = 0;
  if (const auto* items = v.as_array())
    for (const auto& item : *items) deepest = std::max(deepest, depth(item));
  else if (const auto* members = v.as_object())
    for (const auto& member : *members) deepest = std::max(deepest, depth(member.second));
  else
    return 0;
  return deepest + 1;
}

// RFC 3629 UTF-8, decoded arithmetically (the library uses Unicode's table of byte ranges).
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b >> 6) != 2) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

void check_failure(const nodus::failure& f, std::size_t size) {
  NODUS_FUZZ_CHECK(f.code == nodus::errc::malformed || f.code == nodus::errc::too_large);
  NODUS_FUZZ_CHECK(f.reason.rfind("JSON: ", 0) == 0);
  // Over max_size, or out of memory (which -malloc_limit_mb turns into a crash first): no offset.
  if (f.reason.rfind("JSON: text of ", 0) == 0 || f.reason == "JSON: out of memory while parsing") return;
  const auto at = f.reason.find(" at offset ");
  NODUS_FUZZ_CHECK(at != std::string::npos);
  NODUS_FUZZ_CHECK(std::stoull(f.reason.substr(at + 11)) <= size);
}

json::value reparsed(const std::string& text) {
  auto r = json::parse(text);
  NODUS_FUZZ_CHECK(r.has_value());
  return std::move(r).value();
}

void check_value(const json::value& v, std::string_view text) {
  const auto compact = json::dump(v);
  const auto back = reparsed(compact);
  NODUS_FUZZ_CHECK(back == v);
  NODUS_FUZZ_CHECK(json::dump(back) == compact);
  const auto pretty_back = reparsed(json::dump(v, true));
  NODUS_FUZZ_CHECK(pretty_back == v);
  NODUS_FUZZ_CHECK(json::dump(pretty_back) == compact);

  const auto d = depth(v);
  NODUS_FUZZ_CHECK(json::parse(text, {.max_depth = d}).has_value());
  if (d > 0) {
    const auto shallower = json::parse(text, {.max_depth = d - 1});
    NODUS_FUZZ_CHECK(!shallower && shallower.error().code == nodus::errc::too_large);
  }
  NODUS_FUZZ_CHECK(json::parse(text, {.max_size = text.size()}).has_value());
  const auto smaller = json::parse(text, {.max_size = text.size() - 1});  // text is never empty here
  NODUS_FUZZ_CHECK(!smaller && smaller.error().code == nodus::errc::too_large);
}

void check_writer(std::string_view bytes) {
  const std::string raw(bytes);
  const auto as_string = reparsed(json::dump(raw));
  NODUS_FUZZ_CHECK(as_string.is_string());
  NODUS_FUZZ_CHECK((*as_string.as_string() == raw) == valid_utf8(raw));
  const auto as_key = reparsed(json::dump(json::object{{raw, raw}}, true));
  NODUS_FUZZ_CHECK(as_key.as_object()->size() == 1);
  NODUS_FUZZ_CHECK(as_key.as_object()->front().first == *as_string.as_string());

  unsigned char eight[8] = {};
  std::memcpy(eight, bytes.data(), std::min(bytes.size(), sizeof eight));
  double d = 0;
  std::int64_t i = 0;
  std::memcpy(&d, eight, sizeof d);
  std::memcpy(&i, eight, sizeof i);
  const auto number = reparsed(json::dump(json::array{d, i}));
  const auto& pair = *number.as_array();
  if (std::isfinite(d)) {
    const double got = *pair[0].as_double();
    NODUS_FUZZ_CHECK(!pair[0].is_integer() && std::memcmp(&got, &d, sizeof d) == 0);
  } else {
    NODUS_FUZZ_CHECK(pair[0].is_null());
  }
  NODUS_FUZZ_CHECK(pair[1].is_integer() && pair[1].as_int() == i);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<nodus::result_or_failure<json::value>> parsed;
  {
    allocation_watch watch;
    parsed.emplace(json::parse(text));
    watch.check(64 * size + 64 * 1024);
  }
  if (*parsed)
    check_value(parsed->value(), text);
  else
    check_failure(parsed->error(), size);
  check_writer(text);
  return 0;
}
