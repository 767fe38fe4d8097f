#pragma once
// The JSON side of `--encrypted-field`: a record value read as a JSON object, the members named
// by dotted paths (`card.number`), and the base64 text a sealed field becomes.
//
// A sealed field's value is the string of its envelope in base64; the plaintext sealed is the
// field's JSON text, so that opening restores its type (a number stays a number). The record's
// `nodus.e2e` header then holds the JSON array of the paths sealed, instead of "1"; each field's
// associated data also binds its path and that list, so fields cannot be swapped, renamed or
// dropped from the list unnoticed.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/base64.hpp"
#include "nodus/core/bytes.hpp"
#include "nodus/core/json.hpp"

namespace nodus::kafka_crypto::detail {

/// `value` as a JSON object (at most 64 levels deep), or nothing.
std::optional<json::value> parse_object(byte_view value);
/// The member at `path` (members joined by '.'), or nullptr.
json::value* find_path(json::value& root, std::string_view path);
/// The list of paths in a header value (a JSON array of strings), or nothing.
std::optional<std::vector<std::string>> parse_field_list(byte_view header_value);
/// What a field's associated data binds beyond the record's: its path and the header's list.
std::string field_binding(std::string_view path, std::string_view field_list);

/// Standard base64 with padding (nodus/core/base64.hpp).
using nodus::base64_decode;
using nodus::base64_encode;

}  // namespace nodus::kafka_crypto::detail
