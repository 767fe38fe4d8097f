#pragma once
/// Writing a small private file so that a crash at any moment leaves the old contents or the new,
/// never a torn or empty file: the text goes to `<file>.tmp` (mode 0600, not through a symbolic
/// link), is fsynced, then renamed over `file`. For the state files of nodes and services
/// (node.json, the key custodian's and the authority's stores).

#include <filesystem>
#include <string_view>

#include "nodus/core/failure.hpp"

namespace nodus::vault {

/// Replaces `file` with `text`; the failure names the file and what failed.
result_or_failure<> write_file_atomically(const std::filesystem::path& file, std::string_view text);

}  // namespace nodus::vault
