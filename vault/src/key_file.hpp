#pragma once
// The bytes of one key file. Private to vault/src.
//
//   offset   size  field
//   0        8     magic "NODUSKEY"
//   8        1     format version (1)
//   9        1     key type (the key_type value)
//   10       1     length n of the key id (1..64)
//   11       n     key id, equal to the file name (a renamed file is refused)
//   11+n     4     length m of the secret, big-endian (at most max_key_file_secret)
//   15+n     m     secret bytes
//   15+n+m   32    SHA-256 of every byte before it
//
// Nothing may follow. The checksum catches truncation, bit rot and hand edits; it is not an
// authenticity check (the file's permissions are what keeps others out).

#include <string>
#include <string_view>

#include "key_material.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::vault::detail {

inline constexpr std::size_t max_key_file_secret = 64 * 1024;
inline constexpr std::size_t max_key_file_size = max_key_file_secret + 8 + 3 + 64 + 4 + 32;

/// The file contents for key `id` (wiped when dropped, since they hold the secret).
secret encode_key_file(std::string_view id, const key_material& key);

/// The persistent key in `contents`, read from the file `path` named `id`; errc::corrupted_file
/// with a reason "vault file <path>: ..." when it does not decode or check.
result_or_failure<key_ptr> decode_key_file(const std::string& path, std::string_view id, byte_view contents);

}  // namespace nodus::vault::detail
