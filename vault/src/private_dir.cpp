// The directories of a directory vault, held open and used through their descriptors.
//
// Why the parent is checked: whoever may write to the directory that holds the vault can rename
// the vault away and put a directory (or a link) of theirs in its place, between two runs or
// while one runs. A sticky parent is safe when it belongs to root or to us, since then only the
// owner of an entry (or of the parent) may rename or delete it; that is how /tmp works, and how
// tests put vaults under mkdtemp directories. Only the immediate parent is checked: a writable
// directory further up could still swap the whole chain, which is the administrator's to avoid.
#include "private_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "nodus/vault/errors.hpp"

namespace nodus::vault::detail {
namespace {

namespace fs = std::filesystem;

// Takes the errno value rather than reading it, so that building the strings cannot change it.
auto system_failed(std::string_view label, const std::string& path, const char* doing, int error) {
  return fail(errc::storage_failed,
              std::string(label) + " " + path + ": cannot " + doing + ": " + std::strerror(error));
}

result_or_failure<> check_private(const struct stat& st, std::string_view label, const std::string& path,
                                  mode_t expected) {
  if ((st.st_mode & 077) != 0)
    return fail(errc::insecure_permissions, std::string(label) + " " + path + " has mode " + mode_text(st.st_mode) +
                                                ": group or others have access (expected " + mode_text(expected) + ")");
  if (st.st_uid != ::geteuid())
    return fail(errc::insecure_permissions, std::string(label) + " " + path + " belongs to user " +
                                                std::to_string(st.st_uid) + ", not to this process's user");
  return outcome::success();
}

result_or_failure<> check_parent(const struct stat& st, const std::string& path) {
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0) return outcome::success();
  const bool sticky = (st.st_mode & S_ISVTX) != 0;
  if (sticky && (st.st_uid == 0 || st.st_uid == ::geteuid())) return outcome::success();
  return fail(
      errc::insecure_permissions,
      "vault: parent directory " + path + " has mode " + mode_text(st.st_mode) +
          (sticky ? " and belongs to user " + std::to_string(st.st_uid) : std::string(" without the sticky bit")) +
          ": group or others could put another directory in the vault's place (a parent writable only by "
          "you, or sticky and owned by root or you like /tmp, is accepted)");
}

// Missing parents of a new vault, 0755 whatever the umask adds, so that a umask of 002 does not
// make the vault's own parent group-writable and so refused.
void make_parents(const fs::path& dir) {
  if (dir.empty() || ::mkdir(dir.c_str(), 0755) == 0 || errno != ENOENT) return;
  if (dir.has_parent_path() && dir.parent_path() != dir) make_parents(dir.parent_path());
  ::mkdir(dir.c_str(), 0755);
}

result_or_failure<> write_all(int fd, byte_view data, std::string_view label, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return system_failed(label, path, "write", n < 0 ? errno : EIO);
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return outcome::success();
}

// Renames within `dir` without replacing; false with errno EEXIST if `to` exists.
bool rename_no_replace(int dir, const char* from, const char* to) {
  if (::renameat2(dir, from, dir, to, RENAME_NOREPLACE) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS) return false;
  // File systems without RENAME_NOREPLACE: a hard link is just as atomic and never replaces.
  if (::linkat(dir, from, dir, to, 0) != 0) return false;
  ::unlinkat(dir, from, 0);
  return true;
}

// What `openat(..., O_DIRECTORY | O_NOFOLLOW)` refused with ENOTDIR: a link or something else.
result_or_failure<> not_a_directory(int parent, const std::string& name, std::string_view label,
                                    const std::string& path) {
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return fail(errc::insecure_permissions,
                std::string(label) + " " + path + " is a symbolic link; give the directory it points to");
  return fail(errc::storage_failed, std::string(label) + " " + path + " is not a directory");
}

}  // namespace

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

unique_fd::~unique_fd() {
  if (fd_ >= 0) ::close(fd_);
}

result_or_failure<private_dir> private_dir::open_root(const fs::path& path) {
  const std::string shown = path.string();
  std::error_code ec;
  fs::path full = fs::absolute(path, ec).lexically_normal();
  if (!full.has_filename()) full = full.parent_path();  // a trailing '/'
  const fs::path parent = full.parent_path();
  const std::string base = full.filename().string();
  if (ec || base.empty() || parent == full)
    return fail(errc::storage_failed, "vault: " + shown + " cannot be a vault directory");
  make_parents(parent);
  unique_fd above(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!above) return system_failed("vault: parent directory", parent.string(), "open", errno);
  struct stat st {};
  if (::fstat(above.get(), &st) != 0)
    return system_failed("vault: parent directory", parent.string(), "inspect", errno);
  if (auto ok = check_parent(st, parent.string()); !ok) return std::move(ok).error();
  // Relative to the parent held open: the parent path cannot be swapped between check and use.
  if (::mkdirat(above.get(), base.c_str(), 0700) != 0 && errno != EEXIST)
    return system_failed("vault directory", shown, "create", errno);
  unique_fd fd(::openat(above.get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && errno == ENOTDIR) return not_a_directory(above.get(), base, "vault:", shown).error();
  if (!fd) return system_failed("vault directory", shown, "open", errno);
  if (::fstat(fd.get(), &st) != 0) return system_failed("vault directory", shown, "inspect", errno);
  if (auto ok = check_private(st, "vault directory", shown, 0700); !ok) return std::move(ok).error();
  return private_dir(std::move(fd), path, st.st_dev, st.st_ino);
}

result_or_failure<private_dir> private_dir::open_sub(std::string_view name, bool create, std::string_view label) const {
  const std::string n(name);
  const fs::path sub = path_ / n;
  const bool made = create && ::mkdirat(fd(), n.c_str(), 0700) == 0;
  if (create && !made && errno != EEXIST) return system_failed(label, sub.string(), "create", errno);
  unique_fd d(::openat(fd(), n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d && errno == ENOENT && !create)
    return fail(errc::not_found, std::string(label) + " " + sub.string() + " does not exist");
  if (!d && errno == ENOTDIR) return not_a_directory(fd(), n, label, sub.string()).error();
  if (!d) return system_failed(label, sub.string(), "open", errno);
  struct stat st {};
  if (::fstat(d.get(), &st) != 0) return system_failed(label, sub.string(), "inspect", errno);
  if (auto ok = check_private(st, label, sub.string(), 0700); !ok) return std::move(ok).error();
  if (made) {
    if (auto synced = sync(); !synced) return std::move(synced).error();
  }
  return private_dir(std::move(d), sub, st.st_dev, st.st_ino);
}

result_or_failure<> private_dir::check_in_place() const {
  struct stat st {};
  const bool found = ::lstat(path_.c_str(), &st) == 0;
  if (found && !S_ISLNK(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_) return outcome::success();
  const std::string now = !found                ? "is gone"
                          : S_ISLNK(st.st_mode) ? "is now a symbolic link"
                                                : "is another directory now";
  return fail(errc::insecure_permissions, "vault: directory " + path_.string() + " " + now +
                                              ", not the one opened (moved or swapped); refusing to write there");
}

result_or_failure<> private_dir::write_file(std::string_view name, std::string_view temp_name, byte_view data,
                                            bool replace, const file_kind& kind) const {
  if (auto here = check_in_place(); !here) return here;
  const std::string target(name), temp(temp_name);
  const std::string shown = (path_ / target).string(), shown_temp = (path_ / temp).string();
  // O_EXCL: a stale temporary from a concurrent writer is not reused.
  unique_fd f(::openat(fd(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!f) return system_failed(kind.label, shown_temp, "create", errno);
  // fchmod: the umask may only take bits away, but say exactly what the file is.
  auto written = write_all(f.get(), data, kind.label, shown_temp);
  if (written && (::fchmod(f.get(), 0600) != 0 || ::fsync(f.get()) != 0))
    written = system_failed(kind.label, shown_temp, "sync", errno);
  if (written && ::close(f.release()) != 0) written = system_failed(kind.label, shown_temp, "close", errno);
  if (written) {
    const bool placed = replace ? ::renameat(fd(), temp.c_str(), fd(), target.c_str()) == 0
                                : rename_no_replace(fd(), temp.c_str(), target.c_str());
    if (!placed && errno == EEXIST)
      written = fail(errc::already_exists, std::string(kind.label) + " " + shown + " exists already");
    else if (!placed)
      written = system_failed(kind.label, shown, "rename into place", errno);
  }
  if (!written) {
    discard(temp);
    return written;
  }
  return sync();
}

result_or_failure<secret> private_dir::read_file(std::string_view name, std::size_t max_size,
                                                 const file_kind& kind) const {
  const std::string n(name);
  const std::string shown = (path_ / n).string();
  const std::string label(kind.label);
  // O_NONBLOCK: a FIFO put in a file's place must not hang the reader.
  unique_fd f(::openat(fd(), n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!f && errno == ENOENT) return fail(errc::not_found, label + " " + shown + " does not exist");
  if (!f && errno == ELOOP) return fail(kind.link_code, label + " " + shown + ": is a symbolic link");
  if (!f) return system_failed(label, shown, "open", errno);
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) return system_failed(label, shown, "inspect", errno);
  if (!S_ISREG(st.st_mode)) return fail(errc::corrupted_file, label + " " + shown + ": not a regular file");
  if (auto ok = check_private(st, label, shown, 0600); !ok) return std::move(ok).error();
  if (static_cast<std::uint64_t>(st.st_size) > max_size)
    return fail(errc::corrupted_file, label + " " + shown + ": too large (" + std::to_string(st.st_size) +
                                          " bytes, at most " + std::to_string(max_size) + ")");
  secret contents(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t r = ::read(f.get(), contents.data() + done, contents.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return system_failed(label, shown, "read", errno);
    if (r == 0) break;  // shrank while we read: the decoder reports it as truncated
    done += static_cast<std::size_t>(r);
  }
  if (done == contents.size()) return contents;
  return secret(contents.view().first(done));
}

result_or_failure<> private_dir::remove_file(std::string_view name, const file_kind& kind) const {
  if (auto here = check_in_place(); !here) return here;
  const std::string n(name);
  // Already gone is what was asked for; refusing would leave a file that can never be removed.
  if (::unlinkat(fd(), n.c_str(), 0) != 0 && errno != ENOENT)
    return system_failed(kind.label, (path_ / n).string(), "delete", errno);
  return sync();
}

void private_dir::discard(std::string_view name) const noexcept {
  const std::string n(name);
  ::unlinkat(fd(), n.c_str(), 0);
}

result_or_failure<std::vector<std::string>> private_dir::names() const {
  // A descriptor of its own: readdir moves the offset, which a dup would share with fd().
  unique_fd listing(::openat(fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(listing ? ::fdopendir(listing.get()) : nullptr, ::closedir);
  if (!dir) return system_failed("vault directory", path_.string(), "list", errno);
  (void)listing.release();  // closedir closes it
  std::vector<std::string> out;
  errno = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view n = entry->d_name;
    if (n != "." && n != "..") out.emplace_back(n);
  }
  if (errno != 0) return system_failed("vault directory", path_.string(), "list", errno);
  return out;
}

result_or_failure<> private_dir::sync() const {
  if (::fsync(fd()) != 0) return system_failed("vault directory", path_.string(), "sync", errno);
  return outcome::success();
}

}  // namespace nodus::vault::detail
