// nodus identity create|list|show|rotate: named identities kept in a vault directory.

#include <iostream>

#include "cli.hpp"
#include "home.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"
#include "project_files.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

namespace {

constexpr const char* synopsis = "create|list|show|rotate [NAME] [--vault DIR]";

void print(const vault::identity& id, const std::string& name) {
  std::cout << name << " " << id.id() << " (" << id.history().changes().size() << " change"
            << (id.history().changes().size() == 1 ? "" : "s") << ")\n";
}

// Rotates `name` and says which primary key was erased, after checking that it is gone.
int rotate(vault::identity_store& store, vault::vault& keys, const std::string& name) {
  auto before = store.load(name);
  if (!before) return fail("identity", before.error().message());
  auto id = store.rotate(name);
  if (!id) return fail("identity", id.error().message());
  const auto& previous = before.value().primary_key();
  if (keys.type_of(previous))
    return fail("identity",
                name + " rotated, but its previous primary key " + previous.value + " is still in the vault");
  print(id.value(), name);
  std::cout << "previous primary key " << previous.value << " erased\n";
  return 0;
}

}  // namespace

int identity(const std::vector<std::string>& args) {
  std::string action, name, directory;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")(
      "vault", po::value(&directory),
      "the vault directory (created with mode 0700 if missing; default: $NODUS_HOME/vault, where `project enroll` "
      "and `node create --identity` look)")("action", po::value(&action)->required(),
                                            "create, list, show or rotate (positional)")(
      "name", po::value(&name), "the identity's name (positional; not for list)");
  po::positional_options_description positional;
  positional.add("action", 1).add("name", 1);
  po::variables_map values;
  if (auto done = parse("identity", synopsis, args, options, positional, values)) return *done;
  if (action != "create" && action != "list" && action != "show" && action != "rotate")
    return fail("identity", "unknown action '" + action + "' (expected create, list, show or rotate)", exit_usage);
  if (action != "list" && name.empty()) return fail("identity", action + " needs a NAME", exit_usage);

  if (directory.empty()) {
    directory = default_vault_directory().string();
    std::error_code ignored;
    std::filesystem::create_directories(nodus_home(), ignored);
    std::filesystem::permissions(nodus_home(), std::filesystem::perms::owner_all, ignored);
  }
  auto keys = vault::vault::open_directory(directory);
  if (!keys) return fail("identity", keys.error().message());
  vault::identity_store store(keys.value());

  if (action == "list") {
    auto names = store.list();
    if (!names) return fail("identity", names.error().message());
    for (const auto& n : names.value()) {
      auto id = store.load(n);
      if (!id) return fail("identity", id.error().message());
      print(id.value(), n);
    }
    return 0;
  }
  if (action == "rotate") return rotate(store, *keys.value(), name);
  auto id = action == "create" ? store.create(name) : store.load(name);
  if (!id) return fail("identity", id.error().message());
  print(id.value(), name);
  return 0;
}

}  // namespace nodus::cli
