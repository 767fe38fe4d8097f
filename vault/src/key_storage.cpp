// A directory vault's keys on disk. Modes are set at creation (no window in which a key file is
// readable by others), files are synced before they are renamed into place, and every operation
// goes through the keys directory's descriptor without following symbolic links (private_dir).
#include "key_storage.hpp"

#include "key_file.hpp"

namespace nodus::vault::detail {
namespace {

constexpr std::string_view temp_prefix = ".tmp-";
// A link where a key file should be is damage (nothing the vault writes is a link).
file_kind key_file_kind() { return {"vault file", errc::corrupted_file}; }

}  // namespace

result_or_failure<std::unique_ptr<key_storage>> key_storage::open(const private_dir& root,
                                                                  std::vector<stored_key>& keys) {
  auto dir = root.open_sub("keys", true, "vault directory");
  if (!dir) return std::move(dir).error();
  auto names = dir.value().names();
  if (!names) return std::move(names).error();
  for (const std::string& name : names.value()) {
    // A temporary file is a write that never completed, so no caller was ever given its key.
    // It still holds secret bytes: delete it rather than leave them behind.
    if (name.starts_with(temp_prefix)) {
      dir.value().discard(name);
      continue;
    }
    const std::string path = (dir.value().path() / name).string();
    if (!valid_key_id(name)) return fail(errc::corrupted_file, "vault file " + path + ": not a key file name");
    auto contents = dir.value().read_file(name, max_key_file_size, key_file_kind());
    if (!contents) return std::move(contents).error();
    auto key = decode_key_file(path, name, contents.value().view());
    if (!key) return std::move(key).error();
    keys.push_back(stored_key{name, std::move(key).value()});
  }
  return std::make_unique<key_storage>(std::move(dir).value());
}

result_or_failure<> key_storage::write(const std::string& id, const key_material& key) {
  const secret contents = encode_key_file(id, key);
  return keys_directory_.write_file(id, std::string(temp_prefix) + id, contents.view(), false, key_file_kind());
}

result_or_failure<> key_storage::erase(const std::string& id) {
  return keys_directory_.remove_file(id, key_file_kind());
}

}  // namespace nodus::vault::detail
