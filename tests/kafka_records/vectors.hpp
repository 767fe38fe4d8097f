#pragma once
// What the kafka_records tests share: the vector files (tests/kafka_records/vectors, README.md
// there), hex, and the records a vector file describes.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/kafka/records/record.hpp"

namespace nodus::kafka::records::test {

using json = nlohmann::json;

inline json load_vectors(const std::string& file) {
  std::ifstream in(std::string(NODUS_KAFKA_RECORDS_VECTORS) + "/" + file);
  if (!in) throw std::runtime_error("cannot open vector file " + file);
  return json::parse(in);
}

inline bytes from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length");
  bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return out;
}

inline std::string to_hex(byte_view b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

inline std::optional<bytes> nullable_hex(const json& v) {
  if (v.is_null()) return std::nullopt;
  return from_hex(v.get<std::string>());
}

inline bytes text(std::string_view s) {
  const auto b = as_bytes(s);
  return bytes(b.begin(), b.end());
}

/// A record as the vector files describe one (`key_hex`, `value_hex`, `headers`).
inline record described_record(const json& r) {
  record out;
  out.attributes = r.at("attributes").get<std::int8_t>();
  out.timestamp_delta = r.at("timestamp_delta").get<std::int64_t>();
  out.offset_delta = r.at("offset_delta").get<std::int32_t>();
  out.key = nullable_hex(r.at("key_hex"));
  out.value = nullable_hex(r.at("value_hex"));
  for (const auto& h : r.at("headers"))
    out.headers.push_back({h.at("key").get<std::string>(), nullable_hex(h.at("value_hex"))});
  return out;
}

}  // namespace nodus::kafka::records::test
