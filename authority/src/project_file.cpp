#include "nodus/authority/project_file.hpp"

#include <fstream>
#include <sstream>

#include "nodus/authority/ticket.hpp"
#include "nodus/vault/atomic_file.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::authority {
namespace fs = std::filesystem;

namespace {

auto malformed(std::string why) { return nodus::fail(make_error_code(errc::malformed), std::move(why)); }

std::string text_of(const json::value& v, std::string_view key) {
  const auto* m = v.find(key);
  return m && m->as_string() ? *m->as_string() : std::string();
}

}  // namespace

result_or_failure<json::value> read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in)
    return nodus::fail(std::make_error_code(std::errc::no_such_file_or_directory), path.string() + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = json::parse(text.str());
  if (!parsed) return nodus::fail(parsed.error().code, path.string() + ": " + parsed.error().message());
  return std::move(parsed).value();
}

json::value project_info::to_json() const {
  json::value out;
  out["id"] = authority.id;
  out["authority_history"] = base64url_encode(history);
  out["authority_route"] = route;
  return out;
}

result_or_failure<project_info> project_info::from_parts(const std::string& id, bytes history, std::string route) {
  auto decoded = vault::change_history::decode(history);
  if (!decoded) return malformed("the project's authority history does not decode: " + decoded.error().message());
  auto trusted = trusted_authority::from_history(decoded.value());
  if (!trusted) return malformed("the project's authority history does not verify: " + trusted.error().message());
  if (trusted.value().id != id)
    return malformed("the project's authority history is of " + trusted.value().id + ", not of " + id);
  if (route.empty()) return malformed("the project has no route to its authority");
  return project_info{std::move(trusted).value(), std::move(history), std::move(route)};
}

result_or_failure<project_info> project_info::from_json(const json::value& v) {
  const auto id = text_of(v, "id");
  if (id.empty()) return malformed("not a project (no \"id\"): make one with nodus project show --output json");
  auto history = base64url_decode(text_of(v, "authority_history"));
  if (!history) return malformed("the project's \"authority_history\" is not base64url");
  return from_parts(id, std::move(history).value(), text_of(v, "authority_route"));
}

fs::path credential_file(const fs::path& vault, const std::string& identity) {
  return vault / "credentials" / (identity + ".json");
}

result_or_failure<> save_credential(const fs::path& vault, const std::string& identity, const std::string& project,
                                    byte_view credential) {
  std::error_code ec;
  fs::create_directories(vault / "credentials", ec);
  if (ec) return nodus::fail(ec, (vault / "credentials").string() + ": " + ec.message());
  fs::permissions(vault / "credentials", fs::perms::owner_all, ec);
  json::value entry;
  entry["project"] = project;
  entry["credential"] = base64url_encode(credential);
  return vault::write_file_atomically(credential_file(vault, identity), json::dump(entry, true) + "\n");
}

result_or_failure<bytes> load_credential(const fs::path& vault, const std::string& identity,
                                         const std::string& project) {
  const auto file = credential_file(vault, identity);
  const std::string how = "enroll it with: nodus project enroll TICKET --identity " + identity;
  if (!fs::exists(file))
    return nodus::fail(std::make_error_code(std::errc::no_such_file_or_directory),
                       "identity '" + identity + "' has no credential in " + vault.string() + "; " + how);
  auto entry = read_json(file);
  if (!entry) return entry.error();
  if (text_of(entry.value(), "project") != project)
    return nodus::fail(std::make_error_code(std::errc::no_such_file_or_directory),
                       "identity '" + identity + "' is enrolled in project " + text_of(entry.value(), "project") +
                           ", not in " + project + "; " + how);
  auto credential = base64url_decode(text_of(entry.value(), "credential"));
  if (!credential) return malformed(file.string() + ": the credential is not base64url");
  return std::move(credential).value();
}

}  // namespace nodus::authority
