// Named identities: one record per name, in `<vault dir>/identities/<name>` or in memory.
//
// A record is msgpack [1, name, history (bin, change_history::encode), primary key id (str)].
// The name is stored inside too, so a file copied or renamed over another name is noticed.
// In-memory stores keep the same record bytes in a map, so both kinds decode and verify alike.
//
// Files are written atomically: a temporary file (mode 0600, in the same directory, named with a
// '~' so that it is never a valid identity name and `list` skips it) is written and fsynced, then
// renamed over the name (rotate) or to it only if the name is free (create: RENAME_NOREPLACE or
// a hard link, so two processes cannot both create one name), and the directory is fsynced.
// Every file operation goes through the vault directory's descriptor (private_dir), never
// through a symbolic link.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "identity_codec.hpp"
#include "key_table.hpp"
#include "nodus/vault/identity.hpp"
#include "private_dir.hpp"

namespace nodus::vault {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t max_name_size = 64;
constexpr std::size_t max_record_size = 1 << 20;  // a history of max_history_changes is ~14 KiB

// The name as it can be shown in a reason: non-printable bytes escaped, long names cut.
std::string shown(const std::string& name) {
  std::string s;
  for (char c : name.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      s.push_back(c);
    } else {
      static constexpr char digits[] = "0123456789abcdef";
      s += "\\x";
      s.push_back(digits[u >> 4]);
      s.push_back(digits[u & 0x0f]);
    }
  }
  return name.size() > 80 ? s + "..." : s;
}

std::string name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name.size() > max_name_size) return "is longer than 64 characters";
  if (name == "." || name == "..") return "is a path component, not a name";
  const auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  };
  if (!std::all_of(name.begin(), name.end(), allowed)) return "has a character other than A-Z a-z 0-9 . _ -";
  return {};
}

result_or_failure<> check_name(const std::string& name) {
  const std::string problem = name_problem(name);
  if (problem.empty()) return outcome::success();
  return fail(errc::invalid_argument, "identity name '" + shown(name) + "' " + problem);
}

// --- records ---

bytes encode_record(const std::string& name, const identity& ident) {
  bytes out;
  nodus::detail::byte_writer writer{out};
  detail::packer pk(writer);
  pk.pack_array(4);
  pk.pack_uint8(detail::identity_encoding_version);
  detail::pack_str(pk, name);
  detail::pack_bin(pk, ident.history().encode());
  detail::pack_str(pk, ident.primary_key().value);
  return out;
}

struct record {
  std::string name;
  bytes history;
  key_id key;
};

result_or_failure<record> decode_record(byte_view data, const std::string& where) {
  auto handle = nodus::detail::unpack_bounded(data);
  if (!handle)
    return fail(errc::corrupted_file,
                where + ": does not decode (" + handle.error().message() + "), truncated or edited");
  const auto* f = detail::array_of(handle.value().get(), 4);
  std::uint64_t version = 0;
  record r;
  if (f == nullptr || !detail::read_uint(f[0], 0xff, version))
    return fail(errc::corrupted_file, where + ": not an identity record");
  if (version != detail::identity_encoding_version)
    return fail(errc::corrupted_file, where + ": unknown record version " + std::to_string(version));
  if (!detail::read_str(f[1], r.name) || !detail::read_bin(f[2], r.history) || !detail::read_str(f[3], r.key.value))
    return fail(errc::corrupted_file, where + ": fields of the wrong type");
  return r;
}

// --- files ---

detail::file_kind identity_file_kind() { return {"identity file", errc::insecure_permissions}; }

constexpr std::string_view identities_dir = "identities";
constexpr std::string_view identities_label = "identity directory";

}  // namespace

struct identity_store::impl {
  std::shared_ptr<vault> keys;
  const detail::private_dir* root = nullptr;  // the vault's directory; null for an in-memory vault
  fs::path dir;                               // <vault dir>/identities, for reasons only
  mutable std::mutex mutex;
  std::map<std::string, bytes> memory;

  std::string where(const std::string& name) const {
    return dir.empty() ? "identity '" + name + "'" : "identity file " + (dir / name).string();
  }

  result_or_failure<> usable() const {
    if (keys) return outcome::success();
    return fail(errc::invalid_argument, "identity store: no vault");
  }

  // The identities directory, or errc::not_found when it does not exist and `create` is unset.
  result_or_failure<detail::private_dir> directory(bool create) const {
    return root->open_sub(identities_dir, create, identities_label);
  }

  result_or_failure<bool> exists(const std::string& name) const {
    if (!root) return memory.contains(name);
    auto d = directory(false);
    if (!d && d.error().code == errc::not_found) return false;
    if (!d) return std::move(d).error();
    struct stat st {};
    if (::fstatat(d.value().fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
    if (errno == ENOENT) return false;
    return fail(errc::storage_failed, where(name) + ": " + std::strerror(errno));
  }

  result_or_failure<bytes> read(const std::string& name) const {
    const auto missing = [&] {
      return fail(errc::not_found, "no identity named '" + name + "'" + (dir.empty() ? "" : " in " + dir.string()));
    };
    if (!root) {
      auto it = memory.find(name);
      if (it == memory.end()) return missing();
      return it->second;
    }
    auto d = directory(false);
    if (!d && d.error().code == errc::not_found) return missing();
    if (!d) return std::move(d).error();
    auto data = d.value().read_file(name, max_record_size, identity_file_kind());
    if (!data && data.error().code == errc::not_found) return missing();
    if (!data) return std::move(data).error();
    return bytes(data.value().view().begin(), data.value().view().end());
  }

  result_or_failure<> write(const std::string& name, const identity& ident, bool replace) {
    bytes data = encode_record(name, ident);
    if (!root) {
      if (!replace && memory.contains(name)) return fail(errc::already_exists, where(name) + " exists already");
      memory[name] = std::move(data);
      return outcome::success();
    }
    auto d = directory(true);
    if (!d) return std::move(d).error();
    // The temporary's '~' makes it no valid name, so `list` never shows it.
    const std::string temp = "." + name + "~" + detail::to_hex(random_bytes(8));
    return d.value().write_file(name, temp, data, replace, identity_file_kind());
  }

  result_or_failure<std::vector<std::string>> list() const {
    std::vector<std::string> names;
    if (!root) {
      for (const auto& entry : memory) names.push_back(entry.first);
      return names;
    }
    auto d = directory(false);
    if (!d && d.error().code == errc::not_found) return names;
    if (!d) return std::move(d).error();
    auto entries = d.value().names();
    if (!entries) return std::move(entries).error();
    for (const auto& name : entries.value()) {
      struct stat st {};
      // Leftover temporary files have a '~' and so are no names.
      if (name_problem(name).empty() && ::fstatat(d.value().fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISREG(st.st_mode))
        names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // After a failed save, removes the new key `key` unless the record under `name` names it
  // after all (a save can fail after its rename, when the directory is synced); a key that a
  // record names is never removed.
  void forget_unsaved_key(const std::string& name, const key_id& key) {
    auto on_disk = load(name);
    if (!on_disk || on_disk.value().primary_key() != key) (void)keys->remove(key);
  }

  result_or_failure<identity> load(const std::string& name) const {
    auto data = read(name);
    if (!data) return data.error();
    auto rec = decode_record(data.value(), where(name));
    if (!rec) return rec.error();
    if (rec.value().name != name)
      return fail(errc::corrupted_file, where(name) + ": holds the identity named '" + shown(rec.value().name) + "'");
    auto history = change_history::decode(rec.value().history);
    if (!history) return fail(errc::corrupted_file, where(name) + ": " + history.error().message());
    auto ident = identity::from_history(keys, std::move(history).value(), rec.value().key);
    if (!ident) return fail(ident.error().code, where(name) + ": " + ident.error().message());
    return ident;
  }
};

identity_store::identity_store(std::shared_ptr<vault> v) : impl_(std::make_unique<impl>()) {
  impl_->keys = std::move(v);
  if (impl_->keys && impl_->keys->impl_->root) {
    impl_->root = &impl_->keys->impl_->root;
    impl_->dir = impl_->keys->directory() / identities_dir;
  }
}

identity_store::~identity_store() = default;

result_or_failure<identity> identity_store::create(const std::string& name) {
  if (auto ok = check_name(name); !ok) return ok.error();
  if (auto ok = impl_->usable(); !ok) return ok.error();
  std::lock_guard lock(impl_->mutex);
  // Checked before a key is generated, so a refused create leaves no key behind.
  auto taken = impl_->exists(name);
  if (!taken) return taken.error();
  if (taken.value()) return fail(errc::already_exists, impl_->where(name) + " exists already");
  auto ident = identity::create(impl_->keys, key_lifetime::persistent);
  if (!ident) return ident.error();
  if (auto saved = impl_->write(name, ident.value(), false); !saved) {
    impl_->forget_unsaved_key(name, ident.value().primary_key());
    return saved.error();
  }
  return ident;
}

result_or_failure<identity> identity_store::load(const std::string& name) const {
  if (auto ok = check_name(name); !ok) return ok.error();
  if (auto ok = impl_->usable(); !ok) return ok.error();
  std::lock_guard lock(impl_->mutex);
  return impl_->load(name);
}

result_or_failure<identity> identity_store::load_or_create(const std::string& name) {
  auto loaded = load(name);
  if (loaded || loaded.error().code != errc::not_found) return loaded;
  auto created = create(name);
  // Another process (or thread) created it in between: theirs is the one.
  if (!created && created.error().code == errc::already_exists) return load(name);
  return created;
}

result_or_failure<std::vector<std::string>> identity_store::list() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->list();
}

result_or_failure<identity> identity_store::rotate(const std::string& name) {
  if (auto ok = check_name(name); !ok) return ok.error();
  if (auto ok = impl_->usable(); !ok) return ok.error();
  std::lock_guard lock(impl_->mutex);
  auto ident = impl_->load(name);
  if (!ident) return ident.error();
  auto previous = ident.value().rotate_keeping_previous(key_lifetime::persistent);
  if (!previous) return previous.error();
  if (auto saved = impl_->write(name, ident.value(), true); !saved) {
    impl_->forget_unsaved_key(name, ident.value().primary_key());
    return saved.error();
  }
  // Only now that the record names the new key may the old one go.
  if (auto erased = ident.value().erase_previous(previous.value()); !erased) return erased.error();
  return ident;
}

}  // namespace nodus::vault
