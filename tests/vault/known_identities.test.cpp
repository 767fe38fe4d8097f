// The histories a verifier remembers: a rotation is accepted, an older (cut back) or forked
// history refused, an attestation by a rotated-away key refused, an over-long history refused
// before its signatures are looked at; and in a directory vault the same across restarts, with
// damaged files refused by name.

#include "nodus/vault/known_identities.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace nodus::vault {
namespace {

/// A directory of its own under the system's temporary directory (0700), removed at the end.
struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("nodus-known-" + random_hex());
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

identity make_identity(const std::shared_ptr<vault>& v, int rotations = 0) {
  auto ident = identity::create(v, key_lifetime::ephemeral);
  REQUIRE(ident);
  for (int i = 0; i < rotations; ++i) REQUIRE(ident.value().rotate(key_lifetime::ephemeral));
  return std::move(ident).value();
}

/// An identity whose first primary key has the private bytes `seed`, with a fixed creation
/// time: made from one seed in two vaults, both have the same change 0, as the owner and a thief
/// who copied the key would.
identity identity_from_seed(const std::shared_ptr<vault>& v, const bytes& seed) {
  auto key = v->import_secret(key_type::ed25519, seed);
  REQUIRE(key);
  identity_change first{.public_key = v->public_key(key.value()).value(), .created_at = 1'700'000'000};
  first.self_signature = v->sign(key.value(), first.signed_content()).value();
  auto made = identity::from_history(v, change_history({first}), key.value());
  REQUIRE_MESSAGE(made, made.error().message());
  return std::move(made).value();
}

change_history cut(const change_history& h, std::size_t keep) {
  auto changes = h.changes();
  changes.resize(keep);
  return change_history(std::move(changes));
}

/// `r` failed with `code` and a reason containing every one of `parts`.
template <class T>
void check_refused(const result_or_failure<T>& r, std::error_code code, std::initializer_list<std::string> parts) {
  REQUIRE_FALSE(r);
  INFO("reason: " << r.error().reason);
  CHECK(r.error().code == code);
  for (const auto& part : parts) CHECK(r.error().reason.find(part) != std::string::npos);
}

bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, const bytes& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a verifier accepts a history it has not seen, the same again, and one that extends it") {
  auto verifier = vault::create_in_memory();
  auto alice = make_identity(vault::create_in_memory());
  auto& known = verifier->known();
  CHECK(known.latest(alice.id()).error().code == errc::not_found);
  CHECK(known.check_and_remember(alice.history()).value() == alice.id());
  CHECK(known.check_and_remember(alice.history()).value() == alice.id());
  REQUIRE(alice.rotate(key_lifetime::ephemeral));
  REQUIRE(alice.rotate(key_lifetime::ephemeral));
  CHECK(known.check_and_remember(alice.history()).value() == alice.id());
  CHECK(known.latest(alice.id()).value().changes().size() == 3);
  // A re-encoding of the same changes is the same history.
  CHECK(known.check_and_remember(change_history::decode(alice.history().encode()).value()).value() == alice.id());
  check_refused(known.latest("not-an-identifier"), errc::invalid_argument, {"not an identifier"});
}

TEST_CASE("a truncated history is refused once a longer one was seen, naming the identifier") {
  auto verifier = vault::create_in_memory();
  auto alice = make_identity(vault::create_in_memory(), 2);
  auto& known = verifier->known();
  REQUIRE(known.check_and_remember(alice.history()));
  check_refused(
      known.check_and_remember(cut(alice.history(), 1)), errc::untrusted_identity,
      {"identity " + alice.id() + ": history of 1 change is older than one already seen (3 changes)", "rotated away"});
  check_refused(known.check_and_remember(cut(alice.history(), 2)), errc::untrusted_identity,
                {"identity " + alice.id(), "history of 2 changes is older than one already seen (3 changes)"});
  CHECK(known.latest(alice.id()).value().changes().size() == 3);  // the refusals changed nothing
  // A history that does not verify is refused as before, and not remembered.
  auto changes = alice.history().changes();
  changes.push_back(changes.back());
  check_refused(known.check_and_remember(change_history(changes)), errc::untrusted_identity, {"change 3 of 4"});
}

TEST_CASE("a forked history is refused, naming the identifier and the change where it forks") {
  const bytes seed = random_bytes(32);
  auto owner = identity_from_seed(vault::create_in_memory(), seed);
  auto thief = identity_from_seed(vault::create_in_memory(), seed);
  REQUIRE(owner.id() == thief.id());
  REQUIRE(owner.rotate(key_lifetime::ephemeral));
  REQUIRE(thief.rotate(key_lifetime::ephemeral));  // the copied key signs a second change 1
  REQUIRE(thief.history().verify());

  auto verifier = vault::create_in_memory();
  auto& known = verifier->known();
  REQUIRE(known.check_and_remember(owner.history()));
  const std::string forks = "identity " + owner.id() + ": history forks at change 1 from the one already seen";
  check_refused(known.check_and_remember(thief.history()), errc::untrusted_identity,
                {forks, "(2 changes presented, 2 changes seen)", "the key of change 0 has signed two"});
  REQUIRE(thief.rotate(key_lifetime::ephemeral));
  check_refused(known.check_and_remember(thief.history()), errc::untrusted_identity,
                {forks, "(3 changes presented, 2 changes seen)"});
  // The history seen first stays; the owner goes on.
  REQUIRE(owner.rotate(key_lifetime::ephemeral));
  CHECK(known.check_and_remember(owner.history()).value() == owner.id());
}

TEST_CASE("an attestation by a rotated-away key is refused, with the full history or a cut one") {
  const bytes seed = random_bytes(32);
  auto owner = identity_from_seed(vault::create_in_memory(), seed);
  auto thief_vault = vault::create_in_memory();
  auto thief = identity_from_seed(thief_vault, seed);  // holds the first key, copied
  REQUIRE(owner.rotate(key_lifetime::ephemeral));
  const bytes channel_key = thief_vault->public_key(thief_vault->generate(key_type::x25519).value()).value();
  const attestation by_old_key = thief.attest(channel_key, 1h).value();

  // With the owner's history, the attestation names change 0, whose key change 1 replaced.
  check_refused(
      verify_attestation(owner.history(), by_old_key, channel_key), errc::untrusted_identity,
      {"identity " + owner.id() + ": attestation was made under change 0 of 2", "signed by a key rotated away since"});
  // With the history cut back to change 0 it verifies on its own, so a verifier that has seen
  // the rotation refuses the cut history.
  REQUIRE(verify_attestation(thief.history(), by_old_key, channel_key));
  auto verifier = vault::create_in_memory();
  REQUIRE(verifier->known().check_and_remember(owner.history()));
  check_refused(verifier->known().check_and_remember(thief.history()), errc::untrusted_identity,
                {"identity " + owner.id(), "older than one already seen"});
}

TEST_CASE("a history over the cap is refused before any signature is checked, naming the identifier and count") {
  auto v = vault::create_in_memory();
  auto alice = make_identity(v, static_cast<int>(max_history_changes) - 1);
  REQUIRE(alice.history().changes().size() == max_history_changes);
  CHECK(alice.history().verify().value() == alice.id());
  CHECK(v->known().check_and_remember(alice.history()).value() == alice.id());
  check_refused(alice.rotate(key_lifetime::ephemeral), nodus::errc::too_large,
                {"identity " + alice.id(), "64 changes already"});
  CHECK(alice.history().changes().size() == max_history_changes);  // the refused rotation left it so

  // One change more, properly linked and signed: still refused, for its length.
  auto next_key = v->generate(key_type::ed25519).value();
  identity_change next{.previous = sha256(alice.history().changes().back().signed_content()),
                       .public_key = v->public_key(next_key).value(),
                       .created_at = 1};
  next.self_signature = v->sign(next_key, next.signed_content()).value();
  next.previous_signature = v->sign(alice.primary_key(), next.signed_content()).value();
  auto changes = alice.history().changes();
  changes.push_back(next);
  const std::string why = "history of 65 changes, more than the 64 a history may carry";
  const change_history too_long(changes);
  check_refused(too_long.verify(), nodus::errc::too_large, {"identity " + alice.id() + ": " + why});
  check_refused(v->known().check_and_remember(too_long), nodus::errc::too_large, {"identity " + alice.id(), why});
  check_refused(change_history::decode(too_long.encode()), nodus::errc::too_large, {"identity " + alice.id(), why});

  // Signatures broken everywhere after change 0: the length is what is reported, so no
  // signature was checked.
  for (std::size_t i = 1; i < changes.size(); ++i) changes[i].self_signature.assign(64, 0);
  check_refused(change_history(changes).verify(), nodus::errc::too_large, {"identity " + alice.id(), why});
}

TEST_CASE("a directory vault remembers what it has seen across restarts, and still takes a rotation") {
  temp_dir tmp;
  const fs::path alice_dir = tmp.path / "alice";
  const fs::path bob_dir = tmp.path / "bob";
  identifier id;
  change_history first;
  {  // run 1: Bob sees Alice's first history
    auto alice_vault = open_vault(alice_dir);
    auto alice = identity_store(alice_vault).create("alice");
    REQUIRE(alice);
    id = alice.value().id();
    first = alice.value().history();
    auto bob_vault = open_vault(bob_dir);
    REQUIRE(bob_vault->known().check_and_remember(first));
    const fs::path file = bob_dir / "known" / id;
    CHECK(mode_of(bob_dir / "known") == 0700);
    CHECK(mode_of(file) == 0600);
  }
  {  // run 2: both reopened; Alice rotates, and Bob, who saw one change, accepts two
    auto alice_vault = open_vault(alice_dir);
    auto rotated = identity_store(alice_vault).rotate("alice");
    REQUIRE_MESSAGE(rotated, rotated.error().message());
    auto bob_vault = open_vault(bob_dir);
    CHECK(bob_vault->known().latest(id).value().changes().size() == 1);
    auto accepted = bob_vault->known().check_and_remember(rotated.value().history());
    REQUIRE_MESSAGE(accepted, accepted.error().message());
    CHECK(accepted.value() == id);
  }
  {  // run 3: Bob remembers the rotation and refuses the history from before it
    auto bob_vault = open_vault(bob_dir);
    CHECK(bob_vault->known().latest(id).value().changes().size() == 2);
    check_refused(bob_vault->known().check_and_remember(first), errc::untrusted_identity,
                  {"identity " + id + ": history of 1 change is older than one already seen (2 changes)"});
  }
}

TEST_CASE("a damaged, exposed or foreign known-identity file is refused with a reason naming it") {
  temp_dir tmp;
  const fs::path dir = tmp.path / "vault";
  auto v = open_vault(dir);
  auto alice = make_identity(vault::create_in_memory(), 1);
  auto bob = make_identity(vault::create_in_memory());
  REQUIRE(v->known().check_and_remember(alice.history()));
  REQUIRE(v->known().check_and_remember(bob.history()));
  const fs::path file = dir / "known" / alice.id();
  const bytes good = read_file(file);
  auto refused = [&](std::error_code code, const std::string& why) {
    const bytes found = read_file(file);
    check_refused(v->known().check_and_remember(alice.history()), code, {file.string(), why});
    check_refused(v->known().latest(alice.id()), code, {file.string(), why});
    CHECK(read_file(file) == found);  // left as it was found: not repaired, not replaced
  };

  SUBCASE("truncated at every length, or extended") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      CAPTURE(n);
      write_file(file, bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
      refused(errc::corrupted_file, "known identity file");
    }
    auto longer = good;
    longer.push_back(0);
    write_file(file, longer);
    refused(errc::corrupted_file, "trailing bytes");
  }
  SUBCASE("any byte altered") {
    for (std::size_t i = 0; i < good.size(); ++i) {
      CAPTURE(i);
      auto edited = good;
      edited[i] ^= 0x01;
      write_file(file, edited);
      refused(errc::corrupted_file, "known identity file");
    }
  }
  SUBCASE("another identity's file copied over it") {
    write_file(file, read_file(dir / "known" / bob.id()));
    refused(errc::corrupted_file, "holds identity " + bob.id());
  }
  SUBCASE("readable by others") {
    fs::permissions(file, fs::perms::others_read, fs::perm_options::add);
    refused(errc::insecure_permissions, "has mode 0604: group or others have access");
  }
  SUBCASE("a symbolic link") {
    fs::remove(file);
    fs::create_symlink(dir / "known" / bob.id(), file);
    refused(errc::insecure_permissions, "symbolic link");
  }
  // Put back as it was, the file is good again: nothing was repaired or replaced meanwhile.
  fs::remove(file);
  write_file(file, good);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  CHECK(v->known().check_and_remember(alice.history()).value() == alice.id());
}

}  // namespace nodus::vault
