#pragma once
// What a keyring holds, shared by keyring.cpp (the operations) and keyring_store.cpp (the state
// file).

#include <map>
#include <mutex>

#include "nodus/core/json.hpp"
#include "nodus/transit/keyring.hpp"

namespace nodus::transit {

struct stored_version {
  int version = 0;
  vault::key_id aead_key;
  vault::key_id hmac_key;
  std::chrono::system_clock::time_point created;
};

struct stored_key {
  key_info info;                           ///< its `versions` left empty; made from `versions` below
  std::map<int, stored_version> versions;  ///< min_available_version..latest_version
};

struct keyring::state {
  std::shared_ptr<vault::vault> keys;
  std::filesystem::path file;
  mutable std::mutex mutex;  ///< guards `named` and the state file (vault calls are quick: held across them)
  std::map<std::string, stored_key, std::less<>> named;
};

namespace detail {

/// The state file's text for `named`.
std::string keyring_text(const std::map<std::string, stored_key, std::less<>>& named);
/// The keys in a state file's text, each checked against `keys` (its vault ids must exist).
result_or_failure<std::map<std::string, stored_key, std::less<>>> parse_keyring(std::string_view text,
                                                                                const vault::vault& keys,
                                                                                const std::string& file);

}  // namespace detail
}  // namespace nodus::transit
