#pragma once
// What the transit API's handlers share: the parsed call, Vault's response envelope and error
// shape, field readers that refuse with Vault-like reasons, and the policy check.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/json.hpp"
#include "nodus/transit/api.hpp"

namespace nodus::transit::detail {

/// One call: its method, the path after /v1/ cut at '/', the query, the body, the token.
struct call {
  const service_options& options;
  std::string method;
  std::vector<std::string> segments;
  std::string query;
  json::value body;  ///< an object (an empty one when the request had no body)
  std::string token;
};

/// `{"data": data}` in Vault's envelope, status 200.
http_response data_response(json::value data);
/// 204 No Content.
http_response no_content();
/// `{"errors": [message]}` with the status of `code` (see errors.hpp); `errors: []` for a 404
/// of a missing key, as Vault sends it.
http_response error_response(std::error_code code, const std::string& message);
http_response error_response(const failure& f);
http_response bad_request(const std::string& message);

/// Whether the call's token may do `op` on `key`; a refusal is logged (accessor, key, operation)
/// and becomes the 403 in `refused`.
bool allowed(const call& c, operation op, std::string_view key, http_response& refused);

/// A string member, or nothing when absent or null; `bad` set when it is of another kind.
std::optional<std::string> text_member(const json::value& body, std::string_view key, std::string& bad);
/// The bytes of a base64 member; nothing when absent; `bad` set when not base64.
std::optional<bytes> base64_member(const json::value& body, std::string_view key, std::string& bad);
/// An integer member (a JSON number or a string of digits, as Vault accepts both); `fallback`
/// when absent; `bad` set otherwise.
std::int64_t int_member(const json::value& body, std::string_view key, std::int64_t fallback, std::string& bad);
/// A boolean member (or "true"/"false"); nothing when absent.
std::optional<bool> bool_member(const json::value& body, std::string_view key, std::string& bad);

/// One item's result (a request's body, or one of its `batch_input`): its data, or the error
/// Vault would give for it.
struct item_result {
  json::value data;
  std::optional<failure> error;
};
item_result item_error(std::string message);
item_result from(const failure& f);
using item_handler = std::function<item_result(const json::value& item)>;
/// A request served one item at a time: the body itself, or each of its `batch_input` (one
/// result per item, in order, with the item's `reference`). With a batch, any failed item makes
/// the status 400 (or `partial_failure_response_code`), as Vault does.
http_response per_item(const call& c, const item_handler& handle);

// The handlers, by the first segment after transit/ (api_keys.cpp, api_crypto.cpp).
http_response keys_endpoint(const call& c);       // transit/keys[/:name[/action]]
http_response encrypt_endpoint(const call& c);    // transit/encrypt/:name
http_response decrypt_endpoint(const call& c);    // transit/decrypt/:name
http_response rewrap_endpoint(const call& c);     // transit/rewrap/:name
http_response datakey_endpoint(const call& c);    // transit/datakey/:type/:name
http_response random_endpoint(const call& c);     // transit/random[/:source][/:bytes], sys/tools/random
http_response hmac_endpoint(const call& c);       // transit/hmac/:name[/:algorithm]
http_response verify_endpoint(const call& c);     // transit/verify/:name[/:algorithm]
http_response transform_endpoint(const call& c);  // transform/... (api_transform.cpp)

}  // namespace nodus::transit::detail
