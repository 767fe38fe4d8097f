// Fuzzes the policy parser and evaluator (policy/include/nodus/policy/policy.hpp): policy texts
// come from configuration and the control API, and are shown back in `node show` and logs.
//
// Input: a policy text (any bytes). The subjects the policy is asked about are built from the
// same bytes: every `subject.NAME` in it is an attribute, given the values of the text's string
// literals in turn (and once all empty), the first literal also being the identifier; plus the
// subject with nothing.
//
// Properties besides no crash / no UB:
// - parse is total: a policy, or `malformed`/`too_large` with a reason "policy: ..." whose
//   column, when it names one, is within the text (1 to size + 1), followed by the text and a
//   caret line; texts over max_text_size are too_large; the largest allocation is at most 64
//   bytes per input byte + 64 KiB;
// - a parsed policy's text() is within max_text_size and parses to an equal policy with the same
//   text, which allows exactly the same subjects;
// - `not (text)`, when it parses (depth and size permitting), allows exactly the others.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "nodus/policy/policy.hpp"

namespace policy = nodus::policy;
using nodus::fuzz::allocation_watch;

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

// The NAMEs after each `subject.` in the text.
std::vector<std::string> names_in(std::string_view text) {
  std::vector<std::string> names;
  for (auto at = text.find("subject."); at != std::string_view::npos; at = text.find("subject.", at)) {
    at += 8;
    auto end = at;
    while (end < text.size() && is_name_char(text[end])) ++end;
    names.emplace_back(text.substr(at, end - at));
  }
  return names;
}

// The values of the text's string literals, escapes decoded (an unterminated one to the end).
std::vector<std::string> strings_in(std::string_view text) {
  std::vector<std::string> values;
  for (std::size_t at = text.find('"'); at != std::string_view::npos; at = text.find('"', at)) {
    std::string value;
    for (++at; at < text.size() && text[at] != '"'; ++at) {
      if (text[at] == '\\' && at + 1 < text.size()) ++at;
      value += text[at];
    }
    values.push_back(std::move(value));
    if (at < text.size()) ++at;
  }
  return values;
}

std::vector<policy::subject> subjects_from(std::string_view text) {
  const auto names = names_in(text);
  const auto values = strings_in(text);
  std::vector<policy::subject> subjects(1);  // the subject with nothing
  for (std::size_t shift = 0; shift < values.size() && shift < 4; ++shift) {
    auto& s = subjects.emplace_back();
    s.identifier = values.front();
    for (std::size_t i = 0; i < names.size(); ++i) s.attributes[names[i]] = values[(i + shift) % values.size()];
  }
  auto& empty_values = subjects.emplace_back();
  for (const auto& name : names) empty_values.attributes[name] = "";
  return subjects;
}

void check_refusal(std::string_view text, const nodus::failure& f) {
  NODUS_FUZZ_CHECK(f.code == nodus::errc::malformed || f.code == nodus::errc::too_large);
  NODUS_FUZZ_CHECK(f.reason.starts_with("policy: "));
  if (text.size() > policy::max_text_size) NODUS_FUZZ_CHECK(f.code == nodus::errc::too_large);
  const auto first_line = std::string_view(f.reason).substr(0, f.reason.find('\n'));
  const auto at = first_line.rfind(" at column ");
  if (at == std::string_view::npos) return;
  const auto digits = first_line.substr(at + 11);
  std::size_t column = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), column);
  NODUS_FUZZ_CHECK(column >= 1 && column <= text.size() + 1);
  // The text and the caret line follow, and the caret line ends with the caret.
  NODUS_FUZZ_CHECK(f.reason.find('\n') != f.reason.rfind('\n'));
  NODUS_FUZZ_CHECK(f.reason.back() == '^');
}

void check_policy(std::string_view text, const policy::policy& p) {
  NODUS_FUZZ_CHECK(text.size() <= policy::max_text_size);
  const auto written = p.text();
  NODUS_FUZZ_CHECK(written.size() <= policy::max_text_size);
  const auto again = policy::parse_policy(written);
  NODUS_FUZZ_CHECK(again.has_value());
  NODUS_FUZZ_CHECK(again.value() == p);
  NODUS_FUZZ_CHECK(again.value().text() == written);
  const auto negated = policy::parse_policy("not (" + written + ")");
  if (!negated) NODUS_FUZZ_CHECK(negated.error().code == nodus::errc::too_large);
  for (const auto& s : subjects_from(text)) {
    const bool allowed = p.allows(s);
    NODUS_FUZZ_CHECK(again.value().allows(s) == allowed);
    if (negated) NODUS_FUZZ_CHECK(negated.value().allows(s) == !allowed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = [text] {
    allocation_watch watch;
    auto p = policy::parse_policy(text);
    watch.check(64 * text.size() + 64 * 1024);
    return p;
  }();
  if (parsed)
    check_policy(text, parsed.value());
  else
    check_refusal(text, parsed.error());
  return 0;
}
