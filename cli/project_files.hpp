#pragma once
// What the project verbs and the node process share: the member's files
// (nodus/authority/project_file.hpp), where identities live by default, and the authority's addresses.

#include <filesystem>

#include "nodus/authority/project_file.hpp"

namespace nodus::cli {

using authority::load_credential;
using authority::project_info;
using authority::save_credential;

/// Where the authority of a node that is one answers, and the listener in front of it.
inline constexpr const char* authority_worker_address = "authority";
inline constexpr const char* authority_listener_address = "authority_listener";

/// The vault identities live in unless told otherwise: $NODUS_HOME/vault.
std::filesystem::path default_vault_directory();

}  // namespace nodus::cli
