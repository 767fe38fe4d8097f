#include "home.hpp"

#include "project_files.hpp"

#include "nodus/vault/atomic_file.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace nodus::cli {
namespace fs = std::filesystem;

fs::path nodus_home() {
  if (const char* home = std::getenv("NODUS_HOME"); home && *home) return home;
  const char* user_home = std::getenv("HOME");
  return fs::path(user_home && *user_home ? user_home : ".") / ".nodus";
}

fs::path node_directory(const std::string& name) { return nodus_home() / "nodes" / name; }
fs::path default_vault_directory() { return nodus_home() / "vault"; }

result_or_failure<secure_channel::channel_identity> load_channel_identity(const fs::path& directory,
                                                                          const std::string& name) {
  auto keys = vault::vault::open_directory(directory);
  if (!keys) return keys.error();
  auto id = vault::identity_store(keys.value()).load(name);
  if (!id)
    return fail(id.error().code, "identity '" + name + "': " + id.error().message() +
                                     " (create it with: nodus identity create " + name + ")");
  return secure_channel::channel_identity::create(id.value());
}

std::vector<std::string> node_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(nodus_home() / "nodes", ec))
    if (entry.is_directory() && fs::exists(entry.path() / "node.json")) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

result_or_failure<> check_node_name(const std::string& name) {
  const bool valid =
      !name.empty() && name.size() <= 64 && name[0] != '-' &&
      std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
  if (!valid)
    return nodus::fail(std::make_error_code(std::errc::invalid_argument),
                       "'" + name + "' is not a node name (1 to 64 letters, digits, '_' or '-')");
  return outcome::success();
}

std::optional<int> running_pid(const std::string& name) {
  const auto lock_path = node_directory(name) / "lock";
  const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // The running node holds an exclusive lock; when we can take a shared one, nobody does.
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  if (!held) return std::nullopt;
  std::ifstream in(node_directory(name) / "pid");
  int pid = 0;
  if (in >> pid && pid > 0) return pid;
  return 0;  // running, but its pid file is not written yet
}

result_or_failure<json::value> read_json_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return nodus::fail(std::make_error_code(std::errc::no_such_file_or_directory), path.string() + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = json::parse(text.str());
  if (!parsed) return nodus::fail(parsed.error().code, path.string() + ": " + parsed.error().message());
  return std::move(parsed).value();
}

result_or_failure<> write_json_file(const fs::path& path, const json::value& v) {
  return vault::write_file_atomically(path, json::dump(v, true) + "\n");
}

}  // namespace nodus::cli
