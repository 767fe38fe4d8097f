// Named identities in a vault directory (and in memory): create, load, list, rotate, the files'
// permissions, clear errors for bad files and names, and identities that survive a restart.

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "nodus/vault/identity.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace nodus::vault {
namespace {

/// A directory of its own under the system's temporary directory (0700, as mkdtemp makes them,
/// so that the vault inside has a parent nobody else may write to), removed at the end.
struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("nodus-identity-store-" + random_hex());
  temp_dir() {
    fs::create_directories(path);
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static std::string random_hex() {
    std::string s;
    for (auto b : random_bytes(8)) s += "0123456789abcdef"[b & 0x0f];
    return s;
  }
};

std::shared_ptr<vault> open_vault(const fs::path& dir) {
  auto v = vault::open_directory(dir);
  REQUIRE_MESSAGE(v, (v ? "" : v.error().message()));
  return v.value();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), {});
}

/// Overwrites `p` in place (its mode stays).
void write_file(const fs::path& p, const bytes& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
}

bytes x25519_public(vault& v) { return v.public_key(v.generate(key_type::x25519).value()).value(); }

void check_failure(const result_or_failure<identity>& r, errc code, const std::string& in_reason) {
  REQUIRE_FALSE(r);
  INFO("reason: " << r.error().reason);
  CHECK(r.error().code == code);
  CHECK(r.error().reason.find(in_reason) != std::string::npos);
}

}  // namespace

TEST_CASE("a directory store creates, lists, loads and rotates named identities") {
  temp_dir tmp;
  const fs::path dir = tmp.path / "vault";
  auto v = open_vault(dir);
  identity_store store(v);
  CHECK(store.list().value().empty());

  auto bob = store.create("bob");
  REQUIRE(bob);
  auto alice = store.create("alice");
  REQUIRE(alice);
  CHECK(alice.value().id() != bob.value().id());
  CHECK(store.list().value() == std::vector<std::string>{"alice", "bob"});

  SUBCASE("files are private") {
    CHECK(mode_of(dir / "identities") == 0700);
    CHECK(mode_of(dir / "identities" / "alice") == 0600);
    CHECK(mode_of(dir / "identities" / "bob") == 0600);
  }
  SUBCASE("load gives back the same identity") {
    auto loaded = store.load("alice");
    REQUIRE(loaded);
    CHECK(loaded.value().id() == alice.value().id());
    CHECK(loaded.value().primary_key() == alice.value().primary_key());
  }
  SUBCASE("rotate keeps the identifier, and the rotation is saved") {
    auto rotated = store.rotate("alice");
    REQUIRE(rotated);
    CHECK(rotated.value().id() == alice.value().id());
    CHECK(rotated.value().primary_key() != alice.value().primary_key());
    auto loaded = store.load("alice");
    REQUIRE(loaded);
    CHECK(loaded.value().history().changes().size() == 2);
    CHECK(loaded.value().primary_key() == rotated.value().primary_key());
    CHECK(mode_of(dir / "identities" / "alice") == 0600);
  }
  SUBCASE("a second create of a name is refused and leaves the first alone") {
    const auto keys_before = v->list().size();
    check_failure(store.create("alice"), errc::already_exists, "alice");
    CHECK(store.load("alice").value().id() == alice.value().id());
    CHECK(v->list().size() == keys_before);  // no key was made for the refused create
  }
  SUBCASE("an unknown name is not found") {
    check_failure(store.load("carol"), errc::not_found, "carol");
    check_failure(store.rotate("carol"), errc::not_found, "carol");
  }
  SUBCASE("load_or_create loads what exists and creates what does not") {
    CHECK(store.load_or_create("alice").value().id() == alice.value().id());
    auto carol = store.load_or_create("carol");
    REQUIRE(carol);
    CHECK(store.load_or_create("carol").value().id() == carol.value().id());
    CHECK(store.list().value() == std::vector<std::string>{"alice", "bob", "carol"});
  }
  SUBCASE("leftover temporary files and other entries are not listed") {
    write_file(dir / "identities" / ".alice~0123456789abcdef", bytes{1, 2, 3});
    fs::create_directory(dir / "identities" / "subdir");
    CHECK(store.list().value() == std::vector<std::string>{"alice", "bob"});
  }
}

TEST_CASE("a rotated identity reloaded in a second run keeps its identifier and its attestations") {
  temp_dir tmp;
  const fs::path dir = tmp.path / "vault";
  identifier id;
  bytes channel_key;
  attestation made_in_first_run;
  {
    auto v = open_vault(dir);
    identity_store store(v);
    auto alice = store.create("alice");
    REQUIRE(alice);
    id = alice.value().id();
    auto rotated = store.rotate("alice");
    REQUIRE(rotated);
    channel_key = x25519_public(*v);
    made_in_first_run = rotated.value().attest(channel_key, 1h).value();
  }
  auto v = open_vault(dir);
  identity_store store(v);
  CHECK(store.list().value() == std::vector<std::string>{"alice"});
  auto alice = store.load("alice");
  REQUIRE(alice);
  CHECK(alice.value().id() == id);
  CHECK(alice.value().history().changes().size() == 2);
  CHECK(verify_attestation(alice.value().history(), made_in_first_run, channel_key).value() == id);

  auto again = store.rotate("alice");
  REQUIRE(again);
  CHECK(again.value().id() == id);
  auto fresh = again.value().attest(channel_key, 1h);
  REQUIRE(fresh);
  CHECK(verify_attestation(again.value().history(), fresh.value(), channel_key).value() == id);
  // Made before this rotation: signed by a key the identity no longer uses.
  CHECK(verify_attestation(again.value().history(), made_in_first_run, channel_key).error().code ==
        errc::untrusted_identity);
}

TEST_CASE("after a rotation the previous primary key is gone from the vault, also after a restart") {
  temp_dir tmp;
  const fs::path dir = tmp.path / "vault";
  key_id first_key, second_key;
  {
    auto v = open_vault(dir);
    identity_store store(v);
    auto alice = store.create("alice");
    REQUIRE(alice);
    first_key = alice.value().primary_key();
    REQUIRE(fs::exists(dir / "keys" / first_key.value));
    auto rotated = store.rotate("alice");
    REQUIRE_MESSAGE(rotated, rotated.error().message());
    second_key = rotated.value().primary_key();
    CHECK(v->type_of(first_key).error() == errc::unknown_key);
    CHECK(v->sign(first_key, nodus::as_bytes("x")).error() == errc::unknown_key);
    CHECK_FALSE(fs::exists(dir / "keys" / first_key.value));
    CHECK(v->list() == std::vector<key_id>{second_key});
  }
  auto v = open_vault(dir);
  CHECK(v->type_of(first_key).error() == errc::unknown_key);
  CHECK(v->list() == std::vector<key_id>{second_key});
  auto alice = identity_store(v).load("alice");
  REQUIRE(alice);
  CHECK(alice.value().primary_key() == second_key);
  CHECK(alice.value().attest(x25519_public(*v), 1h));
}

TEST_CASE("a damaged, foreign or exposed identity file gives an error naming the file") {
  temp_dir tmp;
  const fs::path dir = tmp.path / "vault";
  auto v = open_vault(dir);
  identity_store store(v);
  auto alice = store.create("alice");
  REQUIRE(alice);
  REQUIRE(store.create("bob"));
  const fs::path file = dir / "identities" / "alice";
  const bytes good = read_file(file);

  SUBCASE("truncated at every length") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      CAPTURE(n);
      write_file(file, bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
      check_failure(store.load("alice"), errc::corrupted_file, file.string());
    }
  }
  SUBCASE("garbage") {
    write_file(file, random_bytes(200));
    check_failure(store.load("alice"), errc::corrupted_file, file.string());
    write_file(file, bytes{});
    check_failure(store.load("alice"), errc::corrupted_file, file.string());
  }
  SUBCASE("a signature inside the history altered") {
    const bytes history = alice.value().history().encode();
    bytes edited = good;
    auto at = std::search(edited.begin(), edited.end(), history.begin(), history.end());
    REQUIRE(at != edited.end());
    *(at + static_cast<std::ptrdiff_t>(history.size()) - 3) ^= 0x01;  // inside the last signature
    write_file(file, edited);
    check_failure(store.load("alice"), errc::untrusted_identity, file.string());
  }
  SUBCASE("bob's file copied over alice's") {
    write_file(file, read_file(dir / "identities" / "bob"));
    check_failure(store.load("alice"), errc::corrupted_file, "holds the identity named 'bob'");
  }
  SUBCASE("readable by group or others") {
    fs::permissions(file, fs::perms::group_read, fs::perm_options::add);
    check_failure(store.load("alice"), errc::insecure_permissions, file.string());
    fs::permissions(file, fs::perms::group_read, fs::perm_options::remove);
    fs::permissions(file, fs::perms::others_write, fs::perm_options::add);
    check_failure(store.load("alice"), errc::insecure_permissions, file.string());
    check_failure(store.rotate("alice"), errc::insecure_permissions, file.string());
  }
  SUBCASE("a symbolic link instead of a file") {
    fs::remove(file);
    fs::create_symlink(dir / "identities" / "bob", file);
    check_failure(store.load("alice"), errc::insecure_permissions, file.string());
  }
  SUBCASE("its primary key gone from the vault") {
    REQUIRE(v->remove(alice.value().primary_key()));
    auto r = store.load("alice");
    check_failure(r, errc::unknown_key, file.string());
    CHECK(r.error().reason.find(alice.value().primary_key().value) != std::string::npos);
  }
  // Whatever the damage, the other identity still loads.
  CHECK(store.load("bob"));
}

TEST_CASE("identity names are checked, and a refusal says which name and why") {
  identity_store store(vault::create_in_memory());
  const std::string longest(64, 'n');
  CHECK(store.create(longest));
  CHECK(store.create("A-z_0.9"));
  CHECK(store.create(".hidden"));
  const std::vector<std::pair<std::string, std::string>> refused{
      {"", "is empty"},
      {std::string(65, 'n'), "longer than 64"},
      {".", "path component"},
      {"..", "path component"},
      {"a/b", "'a/b' has a character"},
      {"../escape", "has a character"},
      {"tab\there", "'tab\\x09here'"},
      {"caf\xc3\xa9", "has a character"},
      {"a~1", "has a character"},
  };
  for (const auto& [name, why] : refused) {
    CAPTURE(name);
    check_failure(store.create(name), errc::invalid_argument, why);
    check_failure(store.load(name), errc::invalid_argument, why);
    check_failure(store.rotate(name), errc::invalid_argument, why);
  }
}

TEST_CASE("an in-memory store keeps named identities for the life of the store") {
  auto v = vault::create_in_memory();
  identity_store store(v);
  auto alice = store.create("alice");
  REQUIRE(alice);
  REQUIRE(store.create("bob"));
  CHECK(store.list().value() == std::vector<std::string>{"alice", "bob"});
  check_failure(store.create("alice"), errc::already_exists, "alice");
  check_failure(store.load("carol"), errc::not_found, "carol");
  auto rotated = store.rotate("alice");
  REQUIRE(rotated);
  CHECK(rotated.value().id() == alice.value().id());
  CHECK(store.load("alice").value().history().changes().size() == 2);
  CHECK(store.load("alice").value().primary_key() == rotated.value().primary_key());
}

TEST_CASE("a store without a vault refuses every operation") {
  identity_store store(nullptr);
  check_failure(store.create("alice"), errc::invalid_argument, "no vault");
  check_failure(store.load("alice"), errc::invalid_argument, "no vault");
}

}  // namespace nodus::vault
