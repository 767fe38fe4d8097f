#pragma once
// A directory of a directory vault, opened once and used through its descriptor. Private to
// vault/src.
//
// Every file operation is relative to the descriptor (openat, renameat, unlinkat, fsync of the
// directory), and no directory or file is opened through a symbolic link, so a directory swapped
// for a link after opening is never followed. Writes and deletions also check first that the
// path still names the directory that was opened, and refuse with a reason when it does not.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/vault/secret.hpp"

namespace nodus::vault::detail {

/// A file descriptor closed on destruction.
class unique_fd {
public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd();

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }

private:
  int fd_ = -1;
};

/// How the files of one kind are named in reasons, and what a symbolic link in their place is.
struct file_kind {
  std::string_view label;     ///< "vault file", "identity file", "known identity file"
  std::error_code link_code;  ///< the error for a symbolic link where a file should be
};

/// A private directory (mode 0700, owned by this process's user) held open.
class private_dir {
public:
  private_dir() = default;

  /// Opens the vault directory `path`, creating it (0700) and its missing parents (0755) if
  /// needed. Refused: `path` a symbolic link or not a directory; `path` open to group or others
  /// or owned by another user; a parent directory writable by group or others, unless it has
  /// the sticky bit and belongs to root or to this user (as /tmp does): in such a parent nobody
  /// else can rename or delete the vault directory.
  static result_or_failure<private_dir> open_root(const std::filesystem::path& path);

  /// Opens the subdirectory `name`, creating it (0700) if missing when `create` is set;
  /// errc::not_found if it is missing and `create` is not. `label` names it in reasons.
  result_or_failure<private_dir> open_sub(std::string_view name, bool create, std::string_view label) const;

  int fd() const noexcept { return fd_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }
  /// The path it was opened at, for reasons only: nothing is opened through it.
  const std::filesystem::path& path() const noexcept { return path_; }

  /// Fails when `path()` no longer names the directory that was opened (moved, or replaced by
  /// a symbolic link).
  result_or_failure<> check_in_place() const;

  /// Puts `data` under `name` atomically: `temp_name` is created (0600, exclusively), written
  /// and synced, then renamed over `name` (`replace`) or to `name` only if it does not exist
  /// (errc::already_exists otherwise), and the directory is synced.
  result_or_failure<> write_file(std::string_view name, std::string_view temp_name, byte_view data, bool replace,
                                 const file_kind& kind) const;

  /// The bytes of the regular file `name`, checked to be private and at most `max_size`;
  /// errc::not_found if there is none, kind.link_code for a symbolic link.
  result_or_failure<secret> read_file(std::string_view name, std::size_t max_size, const file_kind& kind) const;

  /// Deletes `name`; already gone is success.
  result_or_failure<> remove_file(std::string_view name, const file_kind& kind) const;

  /// Deletes `name` without checks or errors (leftover temporary files).
  void discard(std::string_view name) const noexcept;

  /// The names of the entries, without "." and "..", in directory order.
  result_or_failure<std::vector<std::string>> names() const;

  /// fsync of the directory itself.
  result_or_failure<> sync() const;

private:
  private_dir(unique_fd fd, std::filesystem::path path, dev_t dev, ino_t ino)
      : fd_(std::move(fd)), path_(std::move(path)), dev_(dev), ino_(ino) {}

  unique_fd fd_;
  std::filesystem::path path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

/// "0640": the permission bits of `mode`.
std::string mode_text(mode_t mode);

}  // namespace nodus::vault::detail
