#pragma once
// A fresh directory under the system's temporary directory, removed with everything in it when
// the test ends.

#include <filesystem>
#include <string>

#include "nodus/vault/vault.hpp"

namespace nodus::test {

struct temp_dir {
  explicit temp_dir(const std::string& prefix = "nodus-test") {
    std::string suffix;
    for (auto b : vault::random_bytes(8)) suffix += "0123456789abcdef"[b & 0xf];
    path = std::filesystem::temp_directory_path() / (prefix + "-" + suffix);
    std::filesystem::create_directory(path);
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::filesystem::path path;
};

}  // namespace nodus::test
