#pragma once
// The inside of a vault: the table of keys and, for a directory vault, its storage.
// Private to vault/src.

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "key_material.hpp"
#include "nodus/vault/known_identities.hpp"
#include "nodus/vault/vault.hpp"
#include "private_dir.hpp"

namespace nodus::vault {
namespace detail {
class key_storage;
}

struct vault::impl {
  impl();
  ~impl();

  /// The key `id`, or errc::unknown_key.
  result<detail::key_ptr> find(const key_id& id) const;
  /// The key `id` if its type is one of `allowed`; errc::wrong_key_type if it is not.
  result<detail::key_ptr> find(const key_id& id, std::initializer_list<key_type> allowed) const;
  /// Puts `key` in the table under a new id (memory only).
  result<key_id> add(detail::key_ptr key);

  std::filesystem::path directory;               // empty for an in-memory vault
  detail::private_dir root;                      // the directory held open; empty in memory
  std::unique_ptr<detail::key_storage> storage;  // null for an in-memory vault
  std::unique_ptr<known_identities> known;       // uses `root`, so declared (and destroyed) after it
  mutable std::mutex mutex;
  std::map<std::string, detail::key_ptr, std::less<>> keys;  // guarded by mutex
};

}  // namespace nodus::vault
