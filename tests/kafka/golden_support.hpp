#pragma once
// Helpers of the golden tests: hex, reading vector files, and comparing a decoded message's JSON
// with the values another implementation decoded.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/json.hpp"

#ifndef NODUS_KAFKA_VECTORS_DIR
#error "NODUS_KAFKA_VECTORS_DIR must name tests/kafka/vectors"
#endif

namespace kafka_test {

inline nodus::bytes from_hex(std::string_view text) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  nodus::bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  return out;
}

// A JSON file; an empty object when it cannot be read or parsed (the caller's REQUIRE says so).
inline nodus::json::value load_json(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  auto v = nodus::json::parse(text.str(), {.max_size = std::size_t{1} << 30, .max_depth = 64});
  if (!v) {
    error = path + ": " + v.error().message();
    return {};
  }
  return std::move(v).value();
}

inline std::string vectors_dir() { return NODUS_KAFKA_VECTORS_DIR; }

// Differences between `expected` (another implementation's decoding, with the schema's field
// names) and `actual` (ours), each as "path: what". A `Records` value is given there as
// {"records_hex_len": N, ...}: ours is the hex of N bytes.
inline void compare_json(const nodus::json::value& expected, const nodus::json::value& actual, const std::string& path,
                         std::vector<std::string>& differences) {
  using nodus::json::dump;
  if (const auto* o = expected.as_object()) {
    if (const auto* len = expected.find("records_hex_len")) {
      const auto* hex = actual.as_string();
      if (!hex || static_cast<std::int64_t>(hex->size()) != 2 * len->as_int().value_or(-1))
        differences.push_back(path + ": records of " + dump(*len) + " bytes, ours " + dump(actual));
      return;
    }
    if (!actual.is_object()) return differences.push_back(path + ": expected an object, ours " + dump(actual));
    for (const auto& [key, value] : *o) {
      const auto* ours = actual.find(key);
      if (!ours)
        differences.push_back(path + "." + key + ": missing from ours");
      else
        compare_json(value, *ours, path + "." + key, differences);
    }
    for (const auto& [key, value] : *actual.as_object())
      if (!expected.find(key)) differences.push_back(path + "." + key + ": only in ours, " + dump(value));
    return;
  }
  if (const auto* a = expected.as_array()) {
    const auto* b = actual.as_array();
    if (!b || a->size() != b->size())
      return differences.push_back(path + ": " + dump(expected) + " vs ours " + dump(actual));
    for (std::size_t i = 0; i < a->size(); ++i)
      compare_json((*a)[i], (*b)[i], path + "[" + std::to_string(i) + "]", differences);
    return;
  }
  if (!(expected == actual)) differences.push_back(path + ": " + dump(expected) + " vs ours " + dump(actual));
}

}  // namespace kafka_test
