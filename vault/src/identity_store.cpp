// Named identities: one record per name, in `<vault dir>/identities/<name>` or in memory.
//
// A record is msgpack [1, name, history (bin, change_history::encode), primary key id (str)].
// The name is stored inside too, so a file copied or renamed over another name is noticed.
// In-memory stores keep the same record bytes in a map, so both kinds decode and verify alike.
//
// Files are written atomically: a temporary file (mode 0600, in the same directory, named with a
// '~' so that it is never a valid identity name and `list` skips it) is written and fsynced, then
// renamed over the name (rotate) or hard-linked to it (create: link fails if the name exists, so
// two processes cannot both create one name), and the directory is fsynced.

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
#include "nodus/vault/identity.hpp"

namespace nodus::vault {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t max_name_size = 64;
constexpr std::size_t max_record_size = 1 << 20;  // a history of max_history_changes is ~220 KiB

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

// A failed system call on `path`: `what` is "identity file" or "identity directory", `doing` the
// call. Takes no argument that allocates, so errno is still the call's when it is read.
auto system_failed(const char* what, const fs::path& path, const char* doing) {
  const int e = errno;
  return fail(errc::storage_failed, std::string(what) + " " + path.string() + ": " + doing + ": " + std::strerror(e));
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

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

result_or_failure<> check_private(const struct stat& st, const fs::path& path, const char* what) {
  if ((st.st_mode & 077) == 0) return outcome::success();
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return fail(errc::insecure_permissions, std::string(what) + " " + path.string() +
                                              " is open to group or others (mode " + mode + "); expected " +
                                              (S_ISDIR(st.st_mode) ? "0700" : "0600"));
}

result_or_failure<> sync_dir(const fs::path& dir) {
  fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) return system_failed("identity directory", dir, "fsync");
  return outcome::success();
}

// The identities directory, created 0700 if missing; an existing one must be private.
result_or_failure<> ensure_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return sync_dir(dir.parent_path());
  if (errno != EEXIST) return system_failed("identity directory", dir, "create");
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return system_failed("identity directory", dir, "stat");
  if (!S_ISDIR(st.st_mode))
    return fail(errc::storage_failed, "identity directory " + dir.string() + " is not a directory");
  return check_private(st, dir, "identity directory");
}

result_or_failure<> write_all(int fd, byte_view data, const fs::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_failed("identity file", path, "write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return system_failed("identity file", path, "fsync");
  return outcome::success();
}

// Puts `data` at `target` atomically; with `replace` false, fails with already_exists if `target` exists.
result_or_failure<> write_atomically(const fs::path& target, byte_view data, bool replace) {
  const fs::path dir = target.parent_path();
  const fs::path temp = dir / ("." + target.filename().string() + "~" + detail::to_hex(random_bytes(8)));
  {
    fd_guard f{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
    if (f.fd < 0) return system_failed("identity file", temp, "create");
    // The umask can only take bits away; fchmod makes the mode exactly 0600 whatever it is.
    auto written =
        ::fchmod(f.fd, 0600) == 0 ? write_all(f.fd, data, temp) : system_failed("identity file", temp, "chmod");
    if (!written) {
      ::unlink(temp.c_str());
      return written.error();
    }
  }
  const bool placed = replace ? ::rename(temp.c_str(), target.c_str()) == 0 : ::link(temp.c_str(), target.c_str()) == 0;
  const int placing_errno = errno;
  if (!replace || !placed) ::unlink(temp.c_str());
  if (!placed && placing_errno == EEXIST)
    return fail(errc::already_exists, "identity file " + target.string() + " exists already");
  errno = placing_errno;
  if (!placed) return system_failed("identity file", target, replace ? "rename" : "link");
  return sync_dir(dir);
}

// The bytes of `path`, after checking that it is a private regular file of a sane size.
result_or_failure<bytes> read_private_file(const fs::path& path, const std::string& name) {
  fd_guard f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (f.fd < 0 && errno == ENOENT)
    return fail(errc::not_found, "no identity named '" + name + "' in " + path.parent_path().string());
  if (f.fd < 0 && errno == ELOOP)
    return fail(errc::insecure_permissions, "identity file " + path.string() + " is a symbolic link");
  if (f.fd < 0) return system_failed("identity file", path, "open");
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return system_failed("identity file", path, "stat");
  if (!S_ISREG(st.st_mode))
    return fail(errc::corrupted_file, "identity file " + path.string() + " is not a regular file");
  if (auto ok = check_private(st, path, "identity file"); !ok) return ok.error();
  if (static_cast<std::uint64_t>(st.st_size) > max_record_size)
    return fail(errc::corrupted_file, "identity file " + path.string() + " is larger than 1 MiB");
  bytes data(static_cast<std::size_t>(st.st_size) + 1);  // one more: notices a file that grew
  std::size_t size = 0;
  while (size < data.size()) {
    const auto n = ::read(f.fd, data.data() + size, data.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_failed("identity file", path, "read");
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  data.resize(size);
  return data;
}

}  // namespace

struct identity_store::impl {
  std::shared_ptr<vault> keys;
  fs::path dir;  // <vault dir>/identities; empty for an in-memory vault
  mutable std::mutex mutex;
  std::map<std::string, bytes> memory;

  std::string where(const std::string& name) const {
    return dir.empty() ? "identity '" + name + "'" : "identity file " + (dir / name).string();
  }

  result_or_failure<> usable() const {
    if (keys) return outcome::success();
    return fail(errc::invalid_argument, "identity store: no vault");
  }

  result_or_failure<bool> exists(const std::string& name) const {
    if (dir.empty()) return memory.contains(name);
    std::error_code ec;
    const auto status = fs::symlink_status(dir / name, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
      return fail(errc::storage_failed, where(name) + ": " + ec.message());
    return fs::exists(status);
  }

  result_or_failure<bytes> read(const std::string& name) const {
    if (!dir.empty()) return read_private_file(dir / name, name);
    auto it = memory.find(name);
    if (it == memory.end()) return fail(errc::not_found, "no identity named '" + name + "'");
    return it->second;
  }

  result_or_failure<> write(const std::string& name, const identity& ident, bool replace) {
    bytes data = encode_record(name, ident);
    if (dir.empty()) {
      if (!replace && memory.contains(name)) return fail(errc::already_exists, where(name) + " exists already");
      memory[name] = std::move(data);
      return outcome::success();
    }
    if (auto made = ensure_private_dir(dir); !made) return made.error();
    return write_atomically(dir / name, data, replace);
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
  if (impl_->keys && !impl_->keys->directory().empty()) impl_->dir = impl_->keys->directory() / "identities";
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
  std::vector<std::string> names;
  if (impl_->dir.empty()) {
    for (const auto& entry : impl_->memory) names.push_back(entry.first);
    return names;
  }
  std::error_code ec;
  fs::directory_iterator it(impl_->dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return names;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Leftover temporary files have a '~' and so are no names.
    if (name_problem(name).empty() && it->symlink_status().type() == fs::file_type::regular) names.push_back(name);
  }
  if (ec) return fail(errc::storage_failed, "identity directory " + impl_->dir.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

result_or_failure<identity> identity_store::rotate(const std::string& name) {
  if (auto ok = check_name(name); !ok) return ok.error();
  if (auto ok = impl_->usable(); !ok) return ok.error();
  std::lock_guard lock(impl_->mutex);
  auto ident = impl_->load(name);
  if (!ident) return ident.error();
  if (auto rotated = ident.value().rotate(key_lifetime::persistent); !rotated) return rotated.error();
  if (auto saved = impl_->write(name, ident.value(), true); !saved) {
    impl_->forget_unsaved_key(name, ident.value().primary_key());
    return saved.error();
  }
  return ident;
}

}  // namespace nodus::vault
