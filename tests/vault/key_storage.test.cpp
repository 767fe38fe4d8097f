// The directory vault: permissions, persistence across reopen, and refusal of damaged files.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "nodus/core/error.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus::vault;
using nodus::byte_view;
using nodus::bytes;
namespace fs = std::filesystem;

namespace {

// A fresh directory path under /tmp, removed with everything in it at the end of the test.
struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("nodus-vault-test-" + [] {
                    std::string s;
                    for (auto b : random_bytes(8)) s += "0123456789abcdef"[b & 0xf];
                    return s;
                  }());
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
  fs::path vault_dir() const { return path / "vault"; }
};

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, byte_view b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

bytes probe(vault& v, const key_id& key) { return v.hmac_sha256(key, nodus::as_bytes("probe")).value(); }

// Opening must fail with `code`, and the reason must name `path`.
void check_refused(const fs::path& dir, errc code, const fs::path& path) {
  auto v = vault::open_directory(dir);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == code);
  CAPTURE(v.error().reason);
  CHECK(v.error().reason.find(path.string()) != std::string::npos);
}

}  // namespace

TEST_CASE("a new vault directory is 0700 and persistent key files are 0600; ephemeral keys stay in memory") {
  temp_dir tmp;
  auto v = vault::open_directory(tmp.vault_dir());
  REQUIRE(v);
  CHECK(v.value()->directory() == tmp.vault_dir());
  CHECK(mode_of(tmp.vault_dir()) == 0700);
  CHECK(mode_of(tmp.vault_dir() / "keys") == 0700);
  auto persistent = v.value()->generate(key_type::ed25519, key_lifetime::persistent).value();
  auto ephemeral = v.value()->generate(key_type::ed25519, key_lifetime::ephemeral).value();
  const auto file = tmp.vault_dir() / "keys" / persistent.value;
  REQUIRE(fs::is_regular_file(file));
  CHECK(mode_of(file) == 0600);
  CHECK_FALSE(fs::exists(tmp.vault_dir() / "keys" / ephemeral.value));
  CHECK(std::distance(fs::directory_iterator(tmp.vault_dir() / "keys"), fs::directory_iterator()) == 1);
}

TEST_CASE("persistent keys survive reopening with the same bytes; ephemeral ones do not") {
  temp_dir tmp;
  key_id ed, x, aes, chacha, raw, gone;
  bytes ed_pub, x_pub, raw_probe, sealed, chacha_sealed;
  const bytes nonce(aead_nonce_size, 3);
  {
    auto v = vault::open_directory(tmp.vault_dir()).value();
    ed = v->generate(key_type::ed25519, key_lifetime::persistent).value();
    x = v->generate(key_type::x25519, key_lifetime::persistent).value();
    aes = v->generate(key_type::aes256_gcm, key_lifetime::persistent).value();
    chacha = v->generate(key_type::chacha20_poly1305, key_lifetime::persistent).value();
    raw = v->import_secret(key_type::secret_bytes, nodus::as_bytes("imported bytes"), key_lifetime::persistent).value();
    gone = v->generate(key_type::x25519).value();
    ed_pub = v->public_key(ed).value();
    x_pub = v->public_key(x).value();
    raw_probe = probe(*v, raw);
    REQUIRE(v->aead(aes).value().seal(nonce, {}, nodus::as_bytes("kept"), sealed));
    REQUIRE(v->aead(chacha).value().seal(nonce, {}, nodus::as_bytes("kept"), chacha_sealed));
  }
  auto v = vault::open_directory(tmp.vault_dir()).value();
  std::vector<key_id> expected{ed, x, aes, chacha, raw};
  std::sort(expected.begin(), expected.end());
  CHECK(v->list() == expected);
  CHECK(v->type_of(gone).error() == errc::unknown_key);
  CHECK(v->type_of(ed).value() == key_type::ed25519);
  CHECK(v->public_key(ed).value() == ed_pub);
  CHECK(
      verify_ed25519(ed_pub, nodus::as_bytes("after restart"), v->sign(ed, nodus::as_bytes("after restart")).value()));
  CHECK(v->public_key(x).value() == x_pub);
  CHECK(probe(*v, raw) == raw_probe);
  bytes opened;
  REQUIRE(v->aead(aes).value().open(nonce, {}, sealed, opened));
  REQUIRE(v->aead(chacha).value().open(nonce, {}, chacha_sealed, opened));
  CHECK(opened == bytes{'k', 'e', 'p', 't', 'k', 'e', 'p', 't'});
}

TEST_CASE("remove deletes the key's file") {
  temp_dir tmp;
  key_id kept, removed;
  {
    auto v = vault::open_directory(tmp.vault_dir()).value();
    kept = v->generate(key_type::x25519, key_lifetime::persistent).value();
    removed = v->generate(key_type::x25519, key_lifetime::persistent).value();
    REQUIRE(fs::exists(tmp.vault_dir() / "keys" / removed.value));
    REQUIRE(v->remove(removed));
    CHECK_FALSE(fs::exists(tmp.vault_dir() / "keys" / removed.value));
    CHECK(fs::exists(tmp.vault_dir() / "keys" / kept.value));
  }
  auto v = vault::open_directory(tmp.vault_dir()).value();
  CHECK(v->list() == std::vector<key_id>{kept});
}

TEST_CASE("a truncated, edited or extended key file is refused, named, and left as it is") {
  temp_dir tmp;
  key_id id;
  bytes pub;
  {
    auto v = vault::open_directory(tmp.vault_dir()).value();
    id = v->generate(key_type::ed25519, key_lifetime::persistent).value();
    pub = v->public_key(id).value();
  }
  const auto file = tmp.vault_dir() / "keys" / id.value;
  const bytes good = read_file(file);
  REQUIRE(good.size() > 64);

  auto refused_as_is = [&](const bytes& damaged) {
    write_file(file, damaged);
    check_refused(tmp.vault_dir(), errc::corrupted_file, file);
    CHECK(read_file(file) == damaged);  // not repaired, not regenerated
    CHECK(std::distance(fs::directory_iterator(tmp.vault_dir() / "keys"), fs::directory_iterator()) == 1);
  };
  for (std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{11}, good.size() / 2, good.size() - 1}) {
    CAPTURE(size);
    refused_as_is(bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)));
  }
  auto longer = good;
  longer.push_back(0);
  refused_as_is(longer);
  for (std::size_t i = 0; i < good.size(); ++i) {
    CAPTURE(i);
    auto edited = good;
    edited[i] ^= 0x01;
    refused_as_is(edited);
  }
  auto v = vault::open_directory(tmp.vault_dir());
  REQUIRE_FALSE(v);
  CHECK(v.error().code == nodus::condition::protocol);
  CHECK(v.error().reason.find("vault file " + file.string() + ": ") == 0);

  write_file(file, good);  // put back, the same key is there
  CHECK(vault::open_directory(tmp.vault_dir()).value()->public_key(id).value() == pub);
}

TEST_CASE("group or other access to the directory or a key file is refused") {
  temp_dir tmp;
  key_id id;
  {
    auto v = vault::open_directory(tmp.vault_dir()).value();
    id = v->generate(key_type::x25519, key_lifetime::persistent).value();
  }
  const auto keys = tmp.vault_dir() / "keys";
  const auto file = keys / id.value;
  for (auto perms : {fs::perms::group_read, fs::perms::others_read, fs::perms::group_write}) {
    fs::permissions(file, perms, fs::perm_options::add);
    check_refused(tmp.vault_dir(), errc::insecure_permissions, file);
    fs::permissions(file, perms, fs::perm_options::remove);
  }
  fs::permissions(file, fs::perms::group_read, fs::perm_options::add);
  auto v = vault::open_directory(tmp.vault_dir());
  REQUIRE_FALSE(v);
  CHECK(v.error().reason.find("0640") != std::string::npos);
  fs::permissions(file, fs::perms::group_read, fs::perm_options::remove);

  fs::permissions(tmp.vault_dir(), fs::perms::group_read | fs::perms::group_exec, fs::perm_options::add);
  check_refused(tmp.vault_dir(), errc::insecure_permissions, tmp.vault_dir());
  fs::permissions(tmp.vault_dir(), fs::perms::group_read | fs::perms::group_exec, fs::perm_options::remove);
  fs::permissions(keys, fs::perms::others_exec, fs::perm_options::add);
  check_refused(tmp.vault_dir(), errc::insecure_permissions, keys);
  fs::permissions(keys, fs::perms::others_exec, fs::perm_options::remove);

  CHECK(vault::open_directory(tmp.vault_dir()).value()->list() == std::vector<key_id>{id});
}

TEST_CASE("a key file under another key's name, a symbolic link or a stray file is refused") {
  temp_dir tmp;
  key_id id;
  {
    auto v = vault::open_directory(tmp.vault_dir()).value();
    id = v->generate(key_type::x25519, key_lifetime::persistent).value();
  }
  const auto keys = tmp.vault_dir() / "keys";
  const auto renamed = keys / "x25519-0123456789abcdef";
  fs::rename(keys / id.value, renamed);
  check_refused(tmp.vault_dir(), errc::corrupted_file, renamed);
  fs::rename(renamed, keys / id.value);

  const auto link = keys / "x25519-00000000000000ff";
  fs::create_symlink(keys / id.value, link);
  check_refused(tmp.vault_dir(), errc::corrupted_file, link);
  fs::remove(link);

  const auto stray = keys / "README.txt";
  write_file(stray, nodus::as_bytes("hello"));
  fs::permissions(stray, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  check_refused(tmp.vault_dir(), errc::corrupted_file, stray);
  fs::remove(stray);
  CHECK(vault::open_directory(tmp.vault_dir()));
}

TEST_CASE("a leftover temporary file is deleted; a path that is a file is refused") {
  temp_dir tmp;
  REQUIRE(vault::open_directory(tmp.vault_dir()));
  const auto leftover = tmp.vault_dir() / "keys" / ".tmp-x25519-0123456789abcdef";
  write_file(leftover, bytes(10, 1));
  REQUIRE(vault::open_directory(tmp.vault_dir()));
  CHECK_FALSE(fs::exists(leftover));

  const auto file = tmp.path / "plain-file";
  write_file(file, bytes(1, 1));
  auto v = vault::open_directory(file);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == errc::storage_failed);
  CHECK(v.error().reason.find(file.string()) != std::string::npos);
}

TEST_CASE("an existing private directory is used as it is; an in-memory vault keeps persistent keys in memory") {
  temp_dir tmp;
  fs::create_directories(tmp.vault_dir());
  fs::permissions(tmp.vault_dir(), fs::perms::owner_all, fs::perm_options::replace);
  auto v = vault::open_directory(tmp.vault_dir());
  REQUIRE(v);
  CHECK(v.value()->list().empty());

  auto memory = vault::create_in_memory();
  auto id = memory->generate(key_type::ed25519, key_lifetime::persistent).value();
  CHECK(memory->public_key(id));
  CHECK(memory->remove(id));
}

TEST_CASE("a vault directory swapped for a symbolic link after open is not followed, and writes are refused") {
  temp_dir tmp;
  auto v = vault::open_directory(tmp.vault_dir());
  REQUIRE(v);
  const auto kept = v.value()->generate(key_type::x25519, key_lifetime::persistent).value();
  // Someone moves the vault away and puts a link to a directory of theirs in its place.
  const auto moved = tmp.path / "moved";
  const auto theirs = tmp.path / "theirs";
  fs::rename(tmp.vault_dir(), moved);
  fs::create_directories(theirs / "keys");
  fs::create_directory_symlink(theirs, tmp.vault_dir());

  auto refused = v.value()->generate(key_type::ed25519, key_lifetime::persistent);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::insecure_permissions);
  CAPTURE(refused.error().reason);
  CHECK(refused.error().reason.find((tmp.vault_dir() / "keys").string()) != std::string::npos);
  CHECK(refused.error().reason.find("not the one opened") != std::string::npos);
  auto removal = v.value()->remove(kept);
  REQUIRE_FALSE(removal);
  CHECK(removal.error().reason.find("not the one opened") != std::string::npos);
  CHECK(fs::is_empty(theirs / "keys"));  // nothing was written through the link
  CHECK(fs::exists(moved / "keys" / kept.value));
  // Keys already loaded still work: they come from memory, not from the path.
  CHECK(v.value()->public_key(kept));

  // Opened again through the link: refused, the link named.
  auto again = vault::open_directory(tmp.vault_dir());
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::insecure_permissions);
  CHECK(again.error().reason.find(tmp.vault_dir().string() + " is a symbolic link") != std::string::npos);
}

TEST_CASE("a vault whose parent directory others may write to is refused, unless the parent is sticky") {
  temp_dir tmp;
  const auto parent = tmp.path / "shared";
  const auto dir = parent / "vault";
  fs::create_directories(parent);
  auto set_mode = [&](fs::perms p) { fs::permissions(parent, p, fs::perm_options::replace); };
  const auto rwx = fs::perms::owner_all;

  for (auto open_to : {fs::perms::others_write | fs::perms::others_exec | fs::perms::others_read,
                       fs::perms::group_write | fs::perms::group_exec | fs::perms::group_read}) {
    set_mode(rwx | open_to);
    auto v = vault::open_directory(dir);
    REQUIRE_FALSE(v);
    CHECK(v.error().code == errc::insecure_permissions);
    CAPTURE(v.error().reason);
    CHECK(v.error().reason.find("parent directory " + parent.string()) != std::string::npos);
    CHECK(v.error().reason.find("without the sticky bit") != std::string::npos);
    CHECK_FALSE(fs::exists(dir));  // refused before anything was made
  }
  // Sticky and ours (as a /tmp-style directory is root's): nobody else can move the vault.
  set_mode(rwx | fs::perms::group_all | fs::perms::others_all | fs::perms::sticky_bit);
  CHECK(vault::open_directory(dir));
  set_mode(rwx | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  CHECK(vault::open_directory(dir));
  // The system's temporary directory, sticky and root's, is fine as a parent.
  CHECK((mode_of(fs::temp_directory_path()) & 01000) != 0);
  temp_dir direct;
  CHECK(vault::open_directory(direct.path));
}

TEST_CASE("missing parents of a new vault are made 0755, whatever the umask") {
  temp_dir tmp;
  const auto old_mask = ::umask(002);
  auto v = vault::open_directory(tmp.path / "a" / "b" / "vault");
  ::umask(old_mask);
  REQUIRE_MESSAGE(v, v.error().message());
  CHECK(mode_of(tmp.path / "a") == 0755);
  CHECK(mode_of(tmp.path / "a" / "b") == 0755);
  CHECK(mode_of(tmp.path / "a" / "b" / "vault") == 0700);
}
