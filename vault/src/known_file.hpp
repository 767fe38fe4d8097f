#pragma once
// The bytes of one known-identity file, `<vault dir>/known/<identifier>`. Private to vault/src.
//
//   offset   size  field
//   0        8     magic "NODUSKID"
//   8        1     format version (1)
//   9        1     length n of the identifier (41)
//   10       n     identifier, equal to the file name (a renamed file is refused)
//   10+n     4     length m of the history, big-endian (at most max_known_history)
//   14+n     m     the history, change_history::encode()
//   14+n+m   32    SHA-256 of every byte before it
//
// Nothing may follow. The checksum catches truncation, bit rot and hand edits; the history was
// verified before it was written, and when read must still have the file's identifier.

#include <string>
#include <string_view>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::vault::detail {

/// Far more than a history of max_history_changes needs (about 14 KiB).
inline constexpr std::size_t max_known_history = 48 * 1024;
inline constexpr std::size_t max_known_file_size = max_known_history + 8 + 2 + 255 + 4 + 32;

/// The file contents for the verified `history` of identifier `id`.
bytes encode_known_file(std::string_view id, const change_history& history);

/// The history in `contents`, read from the file `path` named `id`: checked and decoded, and
/// its identifier compared with `id`. errc::corrupted_file with a reason "known identity file
/// <path>: ..." otherwise.
result_or_failure<change_history> decode_known_file(const std::string& path, std::string_view id, byte_view contents);

/// True for texts change_history::id() produces: "I" and 40 lowercase hex digits.
bool valid_identifier(std::string_view id) noexcept;

}  // namespace nodus::vault::detail
