#pragma once
/// Who may use a transit service: tokens (sent as Vault's `X-Vault-Token` header) and the
/// policies they carry, per key and operation, so that a producer's token encrypts and never
/// decrypts.
///
/// A policy is a name and rules; a rule names keys (an exact name, a prefix ending in `*`, or
/// `*`) and the operations allowed on them. Its text form, as the command line takes it, is
/// `KEYS:OP,OP`, e.g. `purchases:encrypt,datakey` or `*:*`. The policy `root` exists always and
/// allows everything. A token is shown once, when created; the store keeps only its SHA-256 and
/// an accessor (a second random name that logs and `token list` show, which cannot be used to
/// authenticate). State file: JSON, written atomically, mode 0600. Thread-safe.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/failure.hpp"
#include "nodus/transit/errors.hpp"

namespace nodus::transit {

/// What a request does, as policies name it.
enum class operation {
  create,   ///< make a key (POST keys/:name, and encrypt's upsert of a missing key)
  read,     ///< GET keys/:name
  list,     ///< LIST keys
  rotate,   ///< POST keys/:name/rotate
  config,   ///< POST keys/:name/config
  remove,   ///< DELETE keys/:name ("delete" in policies)
  trim,     ///< POST keys/:name/trim
  encrypt,  ///< POST encrypt/:name
  decrypt,  ///< POST decrypt/:name
  rewrap,   ///< POST rewrap/:name
  datakey,  ///< POST datakey/plaintext|wrapped/:name
  hmac,     ///< POST hmac/:name
  verify,   ///< POST verify/:name
  random,   ///< POST random (no key: rules for `*` apply)
  encode,   ///< POST transform/encode/:role (format-preserving encryption; the role is the key)
  decode,   ///< POST transform/decode/:role
};

/// The policy name of `op` ("delete" for `remove`).
std::string_view operation_name(operation op) noexcept;
std::optional<operation> parse_operation(std::string_view name) noexcept;

struct policy_rule {
  std::string keys;                ///< "orders", "orders-*", "*"
  std::vector<operation> allowed;  ///< in the order given
  bool matches(std::string_view key) const noexcept;
};

struct policy {
  std::string name;
  std::vector<policy_rule> rules;
};

/// A rule from `KEYS:OP,OP` (`*` as the operations: all of them), or a reason.
result_or_failure<policy_rule> parse_rule(std::string_view text);
/// The rule as `parse_rule` reads it.
std::string rule_text(const policy_rule& rule);

struct token_info {
  std::string accessor;
  std::vector<std::string> policies;
  std::string display_name;
  std::chrono::system_clock::time_point created;
  std::optional<std::chrono::system_clock::time_point> expires;  ///< none: until revoked
};

struct issued_token {
  std::string token;  ///< `hvs.` and 43 base64url characters; shown once
  token_info info;
};

/// The answer to "may this token do that": allowed, or a refusal whose reason is for the
/// service's log (it names the accessor, never the token).
struct decision {
  bool allowed = false;
  std::string accessor;  ///< empty when no token or an unknown one was given
  std::string reason;
};

class token_store {
public:
  /// The store kept in `file` ("" : in memory only).
  static result_or_failure<std::shared_ptr<token_store>> open(std::filesystem::path file);
  ~token_store();
  token_store(const token_store&) = delete;
  token_store& operator=(const token_store&) = delete;

  /// Adds or replaces a policy. Names are 1 to 64 of [a-z0-9_-]; `root` cannot be replaced.
  result_or_failure<> write_policy(const policy& p);
  result_or_failure<policy> read_policy(std::string_view name) const;
  std::vector<policy> policies() const;
  /// Forgets a policy; tokens that name it lose what it allowed.
  result_or_failure<> delete_policy(std::string_view name);

  /// A new token with these policies (each must exist), valid for `ttl` (none: until revoked).
  result_or_failure<issued_token> create_token(std::vector<std::string> policies, std::string display_name,
                                               std::optional<std::chrono::seconds> ttl);
  /// Revokes the token whose accessor is `accessor`.
  result_or_failure<> revoke(std::string_view accessor);
  std::vector<token_info> tokens() const;
  /// The token's holder, or nothing for an unknown, revoked or expired token.
  std::optional<token_info> lookup(std::string_view token) const;

  /// Whether `token` may do `op` on `key` ("" for operations on no key: `random`).
  decision authorize(std::string_view token, operation op, std::string_view key) const;

  struct state;

private:
  explicit token_store(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace nodus::transit
