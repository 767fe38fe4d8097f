#pragma once
// The keys directory behind a directory vault: one file per persistent key. Private to vault/src.

#include <memory>
#include <string>
#include <vector>

#include "key_material.hpp"
#include "nodus/core/failure.hpp"
#include "private_dir.hpp"

namespace nodus::vault::detail {

/// The keys directory of a vault: `<dir>/keys/<id>`, each file 0600, written atomically, every
/// operation relative to the directory's descriptor.
class key_storage {
public:
  /// A key found on disk by `open`.
  struct stored_key {
    std::string id;
    key_ptr key;
  };

  /// Opens `<root>/keys` (creating it with mode 0700 if missing), checks the permissions of it
  /// and of every key file, and loads every key into `keys`.
  static result_or_failure<std::unique_ptr<key_storage>> open(const private_dir& root, std::vector<stored_key>& keys);

  /// Writes the file of `key` under `id`; errc::already_exists if a file of that id exists.
  result_or_failure<> write(const std::string& id, const key_material& key);
  /// Deletes the file of `id`.
  result_or_failure<> erase(const std::string& id);

  explicit key_storage(private_dir keys_directory) : keys_directory_(std::move(keys_directory)) {}

private:
  private_dir keys_directory_;
};

}  // namespace nodus::vault::detail
