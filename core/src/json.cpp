#include "nodus/core/json.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

// The parser is in json_parse.cpp, the writer in json_dump.cpp.

namespace nodus::json {
namespace {

// `d` as an int64 when it is an integer in int64's range ([-2^63, 2^63)).
std::optional<std::int64_t> exact_int(double d) noexcept {
  if (!(d >= -0x1p63 && d < 0x1p63) || std::trunc(d) != d) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

}  // namespace

std::string_view describe(kind k) noexcept {
  switch (k) {
    case kind::null: return "null";
    case kind::boolean: return "a boolean";
    case kind::integer: return "an integer";
    case kind::floating: return "a number";
    case kind::string: return "a string";
    case kind::array: return "an array";
    case kind::object: return "an object";
  }
  return "an unknown kind";
}

value::value(unsigned long long i) {
  if (i <= static_cast<unsigned long long>(INT64_MAX))
    v_ = static_cast<std::int64_t>(i);
  else
    v_ = static_cast<double>(i);
}

value::value(const char* s) {
  if (s != nullptr) v_ = std::string(s);
}

std::optional<bool> value::as_bool() const noexcept {
  if (const auto* b = std::get_if<bool>(&v_)) return *b;
  return std::nullopt;
}

std::optional<std::int64_t> value::as_int() const noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return *i;
  if (const auto* d = std::get_if<double>(&v_)) return exact_int(*d);
  return std::nullopt;
}

std::optional<double> value::as_double() const noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  return std::nullopt;
}

const value* value::find(std::string_view key) const noexcept {
  const auto* members = as_object();
  if (members == nullptr) return nullptr;
  for (const auto& [k, v] : *members)
    if (k == key) return &v;
  return nullptr;
}

value* value::find(std::string_view key) noexcept {
  return const_cast<value*>(static_cast<const value&>(*this).find(key));
}

value& value::operator[](std::string_view key) {
  if (is_null()) v_ = object{};
  auto* members = as_object();
  if (members == nullptr)
    throw std::logic_error(fmt::format("JSON: operator[](\"{}\") on {}, not an object", key, describe(kind())));
  if (auto* found = find(key)) return *found;
  return members->emplace_back(std::string(key), value{}).second;
}

void value::push_back(value v) {
  if (is_null()) v_ = array{};
  auto* items = as_array();
  if (items == nullptr) throw std::logic_error(fmt::format("JSON: push_back on {}, not an array", describe(kind())));
  items->push_back(std::move(v));
}

bool operator==(const value& a, const value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integer() && b.is_integer()) return a.as_int() == b.as_int();
    if (!a.is_integer() && !b.is_integer()) return a.as_double() == b.as_double();
    // An integer and a double: equal only when the double is exactly that integer (converting
    // the integer to a double instead would make 2^53 + 1 equal 2^53).
    const auto& d = a.is_integer() ? b : a;
    const auto& i = a.is_integer() ? a : b;
    const auto exact = d.as_int();
    return exact && *exact == *i.as_int();
  }
  return a.v_ == b.v_;
}

}  // namespace nodus::json
