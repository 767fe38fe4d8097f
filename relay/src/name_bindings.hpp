#pragma once
// The members-only relays' rules, without I/O but the bindings' file: which identity each name
// belongs to, and whether a member's credential lets it register a name.

#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "nodus/core/failure.hpp"
#include "nodus/policy/policy.hpp"

namespace nodus::relay::detail {

/// Each relay name bound to the identity that registered it first. Thread-safe.
class name_bindings {
public:
  /// Bindings kept in memory only.
  name_bindings() = default;
  /// Bindings kept in `directory/relay_names.json` (the directory made if missing); the file's
  /// bindings are read now. A file that does not read back as bindings fails, naming it.
  static result_or_failure<std::unique_ptr<name_bindings>> open(const std::filesystem::path& directory);

  /// The identity `name` is bound to; empty when it is free.
  std::string owner(const std::string& name) const;
  /// Binds `name` (free) to `id`, and writes the file when there is one. Fails, leaving the name
  /// free, when the file cannot be written or `max_names` names are bound already.
  result_or_failure<> bind(const std::string& name, const std::string& id, std::size_t max_names);
  std::size_t size() const;

private:
  std::filesystem::path file_;  // empty: in memory only
  mutable std::mutex mutex_;
  std::map<std::string, std::string> owners_;
};

/// The file's text for `owners`: `{"version": 1, "names": {"bob": "I…"}}`.
std::string bindings_text(const std::map<std::string, std::string>& owners);
/// `owners` from the file's text; total: any text in, bindings or a failure saying why out.
result_or_failure<std::map<std::string, std::string>> parse_bindings(std::string_view text);

/// Why the credential attributes of `who` do not let it register `name` (empty: a random name),
/// or empty when they do: the `relay` attribute must be `*`, or `name` itself.
std::string relay_attribute_refusal(const policy::subject& who, const std::string& name);

/// True for a relay name: 1 to 64 of letters, digits, '-', '_', '.'.
bool valid_relay_name(std::string_view name);
inline constexpr std::size_t max_relay_name_length = 64;

}  // namespace nodus::relay::detail
