#include "key_storage.hpp"

#include "key_table.hpp"

namespace nodus::vault {
namespace detail {

result_or_failure<std::unique_ptr<key_storage>> key_storage::open(const std::filesystem::path& directory,
                                                                  std::vector<stored_key>&) {
  return fail(errc::storage_failed, "vault directory " + directory.string() + ": not implemented yet");
}

result_or_failure<> key_storage::write(const std::string&, const key_material&) {
  return fail(errc::storage_failed, "not implemented yet");
}

result_or_failure<> key_storage::erase(const std::string&) {
  return fail(errc::storage_failed, "not implemented yet");
}

}  // namespace detail

result_or_failure<std::shared_ptr<vault>> vault::open_directory(const std::filesystem::path& directory) {
  std::vector<detail::key_storage::stored_key> keys;
  auto storage = detail::key_storage::open(directory, keys);
  if (!storage) return std::move(storage).error();
  auto p = std::make_unique<impl>();
  p->directory = directory;
  p->storage = std::move(storage).value();
  for (auto& k : keys) p->keys.emplace(std::move(k.id), std::move(k.key));
  return std::shared_ptr<vault>(new vault(std::move(p)));
}

}  // namespace nodus::vault
