#include "nodus/kafka_crypto/keys.hpp"

#include <fmt/format.h>

#include "nodus/core/error.hpp"

namespace nodus::kafka_crypto {

std::string to_hex(const key_name& name) {
  std::string out;
  out.reserve(name.size() * 2);
  for (auto b : name) out += fmt::format("{:02x}", b);
  return out;
}

result_or_failure<key_name> key_name_from_hex(std::string_view text) {
  key_name out{};
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() != out.size() * 2)
    return fail(std::make_error_code(std::errc::invalid_argument),
                fmt::format("a key name is {} hex digits, not {}", out.size() * 2, text.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return fail(std::make_error_code(std::errc::invalid_argument), "a key name is hex digits only");
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::optional<std::string> timing_problem(const key_timing& t) {
  using std::chrono::seconds;
  if (t.rekey < seconds(1)) return "the rekey period must be at least 1 s";
  if (t.rotation < t.rekey) return "the rotation period must be at least the rekey period";
  if (t.validity < t.rotation) return "the validity must be at least the rotation period";
  return std::nullopt;
}

namespace {
class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus.kafka_crypto.key"; }
  std::string message(int e) const override {
    switch (static_cast<key_error>(e)) {
      case key_error::refused: return "the key custodian refused";
      case key_error::deleted: return "the key was deleted";
      case key_error::expired: return "the key is past its validity";
      case key_error::unreachable: return "the key custodian did not answer in time";
    }
    return "key error " + std::to_string(e);
  }
  std::error_condition default_error_condition(int e) const noexcept override {
    switch (static_cast<key_error>(e)) {
      case key_error::refused: return make_error_condition(condition::denied);
      case key_error::deleted: return make_error_condition(condition::not_found);
      case key_error::expired: return make_error_condition(condition::denied);
      case key_error::unreachable: return make_error_condition(condition::timeout);
    }
    return {e, *this};
  }
};
}  // namespace

const std::error_category& key_error_category() noexcept {
  static const category c;
  return c;
}

std::error_code make_error_code(key_error e) noexcept { return {static_cast<int>(e), key_error_category()}; }

}  // namespace nodus::kafka_crypto
