#pragma once
// What the project verbs and the node process share: `project.json` (what a member needs to
// reach and verify its project's authority) and the credentials kept in an identity's vault.
//
//   project.json                    {"id": "I…", "authority_history": "<base64url>",
//                                    "authority_route": "1#127.0.0.1:4000 => authority_listener => authority"}
//   <vault>/credentials/NAME.json   {"project": "I…", "credential": "<base64url>"}   (mode 0600)

#include <filesystem>
#include <string>

#include "nodus/authority/credential.hpp"
#include "nodus/core/json.hpp"

namespace nodus::cli {

/// Where the authority of a node that is one answers, and the listener in front of it.
inline constexpr const char* authority_worker_address = "authority";
inline constexpr const char* authority_listener_address = "authority_listener";

struct project_info {
  authority::trusted_authority authority;  ///< its identifier and current public key
  bytes history;                           ///< the authority's change history, encoded
  std::string route;                       ///< to the authority's worker, in Nodus text

  json::value to_json() const;
  /// From project.json (or a ticket's parts): the history must verify to `id`.
  static result_or_failure<project_info> from_json(const json::value& v);
  static result_or_failure<project_info> from_parts(const std::string& id, bytes history, std::string route);
};

/// The vault identities live in unless told otherwise: $NODUS_HOME/vault.
std::filesystem::path default_vault_directory();
/// `<vault>/credentials/<identity>.json`.
std::filesystem::path credential_file(const std::filesystem::path& vault, const std::string& identity);
/// Keeps `credential` (of the project `project`) for `identity` in `vault`.
result_or_failure<> save_credential(const std::filesystem::path& vault, const std::string& identity,
                                    const std::string& project, byte_view credential);
/// The credential kept for `identity` in `vault`, which must be of `project`; the failure says
/// how to get one (`nodus project enroll`).
result_or_failure<bytes> load_credential(const std::filesystem::path& vault, const std::string& identity,
                                         const std::string& project);

}  // namespace nodus::cli
