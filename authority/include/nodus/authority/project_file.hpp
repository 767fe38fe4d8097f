#pragma once
/// What a member keeps: `project.json` (what it needs to reach and verify its project's authority,
/// as `nodus project show --output json` writes it) and its credentials, in its identity's vault.
///
///   project.json                    {"id": "I…", "authority_history": "<base64url>",
///                                    "authority_route": "1#127.0.0.1:4000 => authority_listener => authority"}
///   <vault>/credentials/NAME.json   {"project": "I…", "credential": "<base64url>"}   (mode 0600)

#include <filesystem>
#include <string>

#include "nodus/authority/credential.hpp"
#include "nodus/core/json.hpp"

namespace nodus::authority {

struct project_info {
  trusted_authority authority;  ///< its identifier and current public key
  bytes history;                ///< the authority's change history, encoded
  std::string route;            ///< to the authority's worker, in Nodus text

  json::value to_json() const;
  /// From project.json: the history must verify to `id`, and a route must be there.
  static result_or_failure<project_info> from_json(const json::value& v);
  static result_or_failure<project_info> from_parts(const std::string& id, bytes history, std::string route);
};

/// A JSON file; the failure names it.
result_or_failure<json::value> read_json(const std::filesystem::path& path);

/// `<vault>/credentials/<identity>.json`.
std::filesystem::path credential_file(const std::filesystem::path& vault, const std::string& identity);
/// Keeps `credential` (of the project `project`) for `identity` in `vault`.
result_or_failure<> save_credential(const std::filesystem::path& vault, const std::string& identity,
                                    const std::string& project, byte_view credential);
/// The credential kept for `identity` in `vault`, which must be of `project`; the failure says
/// how to get one (`nodus project enroll`).
result_or_failure<bytes> load_credential(const std::filesystem::path& vault, const std::string& identity,
                                         const std::string& project);

}  // namespace nodus::authority
