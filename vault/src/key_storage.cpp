// A directory vault on disk. POSIX calls rather than std::filesystem where it matters: modes
// are set at creation (no window in which a key file is readable by others), files are synced
// before they are renamed into place, and symbolic links are never followed into a key file.
#include "key_storage.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "key_file.hpp"
#include "key_table.hpp"

namespace nodus::vault {
namespace detail {
namespace {

constexpr std::string_view temp_prefix = ".tmp-";

class unique_fd {
 public:
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

auto storage_error(const std::string& what, const std::string& path, int error) {
  return fail(errc::storage_failed, "vault: cannot " + what + " " + path + ": " + std::strerror(error));
}

// Others must not be able to read keys, nor swap files under us.
result_or_failure<> check_private(const struct stat& st, const std::string& kind, const std::string& path,
                                  mode_t expected) {
  if ((st.st_mode & 077) != 0)
    return fail(errc::insecure_permissions, kind + " " + path + " has mode " + mode_text(st.st_mode) +
                                                ": group or others have access (expected " + mode_text(expected) + ")");
  if (st.st_uid != ::geteuid())
    return fail(errc::insecure_permissions,
                kind + " " + path + " belongs to user " + std::to_string(st.st_uid) + ", not to this process's user");
  return outcome::success();
}

// Opens (creating with mode 0700 if missing) a private directory.
result_or_failure<> ensure_directory(const std::filesystem::path& dir) {
  const std::string path = dir.string();
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return storage_error("create directory", path, errno);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return storage_error("inspect", path, errno);
  if (!S_ISDIR(st.st_mode)) return fail(errc::storage_failed, "vault: " + path + " is not a directory");
  return check_private(st, "vault directory", path, 0700);
}

result_or_failure<> sync_directory(const std::filesystem::path& dir) {
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) return storage_error("sync directory", dir.string(), errno);
  return outcome::success();
}

result_or_failure<> write_all(int fd, byte_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return storage_error("write", path, n < 0 ? errno : EIO);
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return outcome::success();
}

// Reads a whole key file into wiped memory, after checking what it is and who may read it.
result_or_failure<secret> read_key_file(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd && errno == ELOOP) return fail(errc::corrupted_file, "vault file " + path + ": is a symbolic link");
  if (!fd) return storage_error("open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return storage_error("inspect", path, errno);
  if (!S_ISREG(st.st_mode)) return fail(errc::corrupted_file, "vault file " + path + ": not a regular file");
  if (auto checked = check_private(st, "vault file", path, 0600); !checked) return std::move(checked).error();
  if (static_cast<std::size_t>(st.st_size) > max_key_file_size)
    return fail(errc::corrupted_file, "vault file " + path + ": too large (" + std::to_string(st.st_size) + " bytes)");
  secret contents(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::read(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return storage_error("read", path, errno);
    if (n == 0) break;  // shrank while we read: the decoder reports it as truncated
    done += static_cast<std::size_t>(n);
  }
  if (done == contents.size()) return contents;
  secret shorter(contents.view().first(done));
  return shorter;
}

result_or_failure<key_ptr> load(const std::filesystem::path& file, const std::string& name) {
  const std::string path = file.string();
  auto contents = read_key_file(path);
  if (!contents) return std::move(contents).error();
  return decode_key_file(path, name, contents.value().view());
}

// Renames without replacing an existing file; false with errno EEXIST if `to` exists.
bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS) return false;
  // File systems without RENAME_NOREPLACE: a hard link is just as atomic and never replaces.
  if (::link(from.c_str(), to.c_str()) != 0) return false;
  ::unlink(from.c_str());
  return true;
}

}  // namespace

result_or_failure<std::unique_ptr<key_storage>> key_storage::open(const std::filesystem::path& directory,
                                                                  std::vector<stored_key>& keys) {
  std::error_code ec;
  if (directory.has_parent_path()) std::filesystem::create_directories(directory.parent_path(), ec);
  if (auto made = ensure_directory(directory); !made) return std::move(made).error();
  const auto keys_dir = directory / "keys";
  if (auto made = ensure_directory(keys_dir); !made) return std::move(made).error();

  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(keys_dir.c_str()), ::closedir);
  if (!dir) return storage_error("list", keys_dir.string(), errno);
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const auto file = keys_dir / name;
    // A temporary file is a write that never completed, so no caller was ever given its key.
    // It still holds secret bytes: delete it rather than leave them behind.
    if (name.starts_with(temp_prefix)) {
      ::unlink(file.c_str());
      continue;
    }
    if (!valid_key_id(name)) return fail(errc::corrupted_file, "vault file " + file.string() + ": not a key file name");
    auto key = load(file, name);
    if (!key) return std::move(key).error();
    keys.push_back(stored_key{name, std::move(key).value()});
  }
  return std::make_unique<key_storage>(keys_dir);
}

result_or_failure<> key_storage::write(const std::string& id, const key_material& key) {
  const auto target = (keys_directory_ / id).string();
  const auto temp = (keys_directory_ / (std::string(temp_prefix) + id)).string();
  const secret contents = encode_key_file(id, key);
  // O_EXCL: a stale temporary from a concurrent writer of the same id is not reused.
  unique_fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return storage_error("create", temp, errno);
  auto written = write_all(fd.get(), contents.view(), temp);
  // fchmod: the umask may only take bits away, but say exactly what the file is.
  if (written && (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0))
    written = storage_error("sync", temp, errno);
  if (written && ::close(fd.release()) != 0) written = storage_error("close", temp, errno);
  if (written && !rename_no_replace(temp, target)) {
    written = errno == EEXIST ? fail(errc::already_exists, "vault file " + target + " exists already")
                              : storage_error("rename into", target, errno);
  }
  if (!written) {
    ::unlink(temp.c_str());
    return written;
  }
  return sync_directory(keys_directory_);
}

result_or_failure<> key_storage::erase(const std::string& id) {
  const auto target = keys_directory_ / id;
  // Already gone is what was asked for; refusing would leave a key that can never be removed.
  if (::unlink(target.c_str()) != 0 && errno != ENOENT) return storage_error("delete", target.string(), errno);
  return sync_directory(keys_directory_);
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
  // The constructor is private, which rules out make_shared.
  return std::shared_ptr<vault>(new vault(std::move(p)));
}

}  // namespace nodus::vault
