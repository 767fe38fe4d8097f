#include "name_bindings.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "nodus/core/json.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/vault/atomic_file.hpp"

namespace nodus::relay::detail {

namespace {

constexpr std::int64_t file_version = 1;
// Far above what `max_names` bindings take (about 120 bytes each at 4096 names).
constexpr std::size_t max_file_size = 16 << 20;

bool valid_identifier(std::string_view id) {
  return id.size() == 41 && id[0] == 'I' &&
         std::all_of(id.begin() + 1, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// An attribute's value as it goes into a refusal (and the log): escaped, cut short.
std::string shown(std::string_view value) { return printable(as_bytes(value.substr(0, 128))); }

failure malformed(std::string why) { return failure(errc::malformed, "relay names: " + std::move(why)); }

}  // namespace

bool valid_relay_name(std::string_view name) {
  return !name.empty() && name.size() <= max_relay_name_length && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string bindings_text(const std::map<std::string, std::string>& owners) {
  json::object names;
  for (const auto& [name, id] : owners) names.emplace_back(name, id);
  json::object root;
  root.emplace_back("version", file_version);
  root.emplace_back("names", std::move(names));
  return json::dump(json::value(std::move(root)), true) + "\n";
}

result_or_failure<std::map<std::string, std::string>> parse_bindings(std::string_view text) {
  auto parsed = json::parse(text, {.max_size = max_file_size, .max_depth = 4});
  if (!parsed) return parsed.error();
  const auto* version = parsed.value().find("version");
  if (!version || version->as_int() != file_version) return malformed("not version 1");
  const auto* names = parsed.value().find("names");
  if (!names || !names->is_object()) return malformed("no \"names\" object");
  std::map<std::string, std::string> owners;
  for (const auto& [name, id] : *names->as_object()) {
    if (!valid_relay_name(name)) return malformed("an invalid relay name");
    if (!id.is_string() || !valid_identifier(*id.as_string()))
      return malformed(fmt::format("the owner of '{}' is not an identifier", name));
    owners.emplace(name, *id.as_string());
  }
  return owners;
}

result_or_failure<std::unique_ptr<name_bindings>> name_bindings::open(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return fail(ec, directory.string() + ": cannot create the relay names' directory");
  auto bindings = std::make_unique<name_bindings>();
  bindings->file_ = directory / "relay_names.json";
  if (!std::filesystem::exists(bindings->file_, ec)) return bindings;
  std::ifstream in(bindings->file_, std::ios::binary);
  if (!in) return fail(std::make_error_code(std::errc::io_error), bindings->file_.string() + ": cannot read");
  std::string text;
  text.resize(max_file_size + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto owners = parse_bindings(text);
  if (!owners) return fail(owners.error().code, bindings->file_.string() + ": " + owners.error().message());
  bindings->owners_ = std::move(owners).value();
  return bindings;
}

std::string name_bindings::owner(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = owners_.find(name);
  return it == owners_.end() ? std::string() : it->second;
}

std::size_t name_bindings::size() const {
  std::lock_guard lock(mutex_);
  return owners_.size();
}

result_or_failure<> name_bindings::bind(const std::string& name, const std::string& id, std::size_t max_names) {
  std::lock_guard lock(mutex_);
  if (owners_.size() >= max_names)
    return fail(errc::too_large, fmt::format("this hub keeps at most {} relay names, and has them all", max_names));
  auto next = owners_;
  next.emplace(name, id);
  // Written before it counts: a name is never bound in memory but lost on a restart.
  if (!file_.empty()) {
    if (auto written = vault::write_file_atomically(file_, bindings_text(next)); !written)
      return fail(written.error().code, "the relay names cannot be kept: " + written.error().message());
  }
  owners_ = std::move(next);
  return ok();
}

std::string relay_attribute_refusal(const policy::subject& who, const std::string& name) {
  const auto found = who.attributes.find(std::string(relay_attribute));
  if (found != who.attributes.end() && found->second == "*") return {};
  if (name.empty()) {
    const auto said = found == who.attributes.end() ? std::string("it has no relay attribute")
                                                    : fmt::format("its relay attribute is '{}'", shown(found->second));
    return fmt::format(
        "a random relay name is allowed only by a credential whose relay attribute is '*'; the "
        "credential of {} is not: {}",
        who.identifier, said);
  }
  if (found != who.attributes.end() && found->second == name) return {};
  if (found == who.attributes.end())
    return fmt::format("relay name '{}' is not allowed by the credential of {}: it has no relay attribute", name,
                       who.identifier);
  return fmt::format("relay name '{}' is not allowed by the credential of {}: its relay attribute is '{}'", name,
                     who.identifier, shown(found->second));
}

}  // namespace nodus::relay::detail
