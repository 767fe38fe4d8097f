#pragma once
// What the project verbs and the node process share: the member's files
// (nodus/authority/project_file.hpp), where identities live by default, and the authority's addresses.

#include <filesystem>

#include "nodus/authority/project_file.hpp"
#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::cli {

using authority::load_credential;
using authority::project_info;
using authority::save_credential;

/// Where the authority of a node that is one answers, and the listener in front of it.
inline constexpr const char* authority_worker_address = "authority";
inline constexpr const char* authority_listener_address = "authority_listener";

/// The vault identities live in unless told otherwise: $NODUS_HOME/vault.
std::filesystem::path default_vault_directory();

/// The identity `name` kept in the vault at `directory`, ready for handshakes; the failure says
/// how to make it (`nodus identity create NAME`).
result_or_failure<secure_channel::channel_identity> load_channel_identity(const std::filesystem::path& directory,
                                                                          const std::string& name);

}  // namespace nodus::cli
