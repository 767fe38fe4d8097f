#include "nodus/kafka/api.hpp"

#include <fmt/format.h>

namespace nodus::kafka {
namespace {
constexpr std::int16_t api_versions_key = 18;
constexpr std::int16_t controlled_shutdown_key = 7;
}  // namespace

const api_info* find_api(std::int16_t key) noexcept {
  for (const auto& a : all_apis())
    if (a.key == key) return &a;
  return nullptr;
}

const api_info* find_api(std::string_view name) noexcept {
  if (name.ends_with("Request"))
    name.remove_suffix(7);
  else if (name.ends_with("Response"))
    name.remove_suffix(8);
  for (const auto& a : all_apis())
    if (a.name == name) return &a;
  return nullptr;
}

std::string api_name(std::int16_t key) {
  if (const auto* a = find_api(key)) return std::string(a->name);
  return fmt::format("ApiKey({})", key);
}

std::optional<version_range> supported_versions(std::int16_t key) noexcept {
  const auto* a = find_api(key);
  if (!a || !a->full_codec) return std::nullopt;
  return a->valid;
}

bool is_flexible(std::int16_t key, std::int16_t version) noexcept {
  const auto* a = find_api(key);
  return a && a->first_flexible >= 0 && version >= a->first_flexible;
}

int request_header_version(std::int16_t key, std::int16_t version) noexcept {
  if (key == controlled_shutdown_key && version == 0) return 0;
  return is_flexible(key, version) ? 2 : 1;
}

int response_header_version(std::int16_t key, std::int16_t version) noexcept {
  if (key == api_versions_key) return 0;
  return is_flexible(key, version) ? 1 : 0;
}

}  // namespace nodus::kafka
