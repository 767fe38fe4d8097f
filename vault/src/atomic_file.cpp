#include "nodus/vault/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace nodus::vault {

result_or_failure<> write_file_atomically(const std::filesystem::path& file, std::string_view text) {
  const auto temporary = file.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(std::error_code(errno, std::generic_category()), temporary + ": cannot write");
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::error_code ec(errno, std::generic_category());
      ::close(fd);
      return fail(ec, temporary + ": " + ec.message());
    }
    written += static_cast<std::size_t>(n);
  }
  // fsync before the rename: a process killed (or a machine losing power) right after keeps
  // either the old contents or the new ones.
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (synced) std::filesystem::rename(temporary, file, ec);
  if (!synced || ec)
    return fail(ec ? ec : std::make_error_code(std::errc::io_error), file.string() + ": cannot replace");
  return outcome::success();
}

}  // namespace nodus::vault
