// Exportable data keys: the only key type whose bytes come out of the vault, and only theirs.
#include <doctest/doctest.h>

#include <array>
#include <filesystem>
#include <string>

#include "nodus/core/error.hpp"
#include "nodus/vault/vault.hpp"

using namespace nodus::vault;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("nodus-data-key-test-" + [] {
                    std::string s;
                    for (auto b : random_bytes(8)) s += "0123456789abcdef"[b & 0xf];
                    return s;
                  }());
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("a generated data key exports 32 bytes, the same each time") {
  auto v = vault::create_in_memory();
  auto id = v->generate(key_type::data_key);
  REQUIRE(id);
  CHECK(v->type_of(id.value()).value() == key_type::data_key);
  auto first = v->export_data_key(id.value());
  auto second = v->export_data_key(id.value());
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first.value().size() == 32);
  CHECK(std::equal(first.value().view().begin(), first.value().view().end(), second.value().view().begin()));
}

TEST_CASE("an imported data key exports the bytes it was given") {
  auto v = vault::create_in_memory();
  std::array<std::uint8_t, 32> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7);
  auto id = v->import_secret(key_type::data_key, bytes);
  REQUIRE(id);
  auto out = v->export_data_key(id.value());
  REQUIRE(out);
  CHECK(std::equal(bytes.begin(), bytes.end(), out.value().view().begin(), out.value().view().end()));
  std::array<std::uint8_t, 16> short_key{};
  CHECK(v->import_secret(key_type::data_key, short_key).error().code == errc::invalid_key);
}

TEST_CASE("no other key type can be exported") {
  auto v = vault::create_in_memory();
  for (auto type : std::array{key_type::x25519, key_type::ed25519, key_type::aes256_gcm, key_type::chacha20_poly1305,
                              key_type::secret_bytes}) {
    auto id = v->generate(type);
    REQUIRE(id);
    CHECK(v->export_data_key(id.value()).error() == errc::wrong_key_type);
  }
  CHECK(v->export_data_key(key_id{"data_key-0000000000000000"}).error() == errc::unknown_key);
}

TEST_CASE("HKDF does not derive data keys, whose bytes could then be read out") {
  auto v = vault::create_in_memory();
  auto salt = v->generate(key_type::secret_bytes).value();
  const std::array outputs{derived_key{.type = key_type::data_key, .size = 32}};
  CHECK(v->hkdf_sha256(salt, std::nullopt, {}, outputs).error() == errc::invalid_argument);
}

TEST_CASE("a persistent data key survives reopening the vault directory, and removal deletes it") {
  temp_dir dir;
  key_id id;
  nodus::bytes exported;
  {
    auto v = vault::open_directory(dir.path / "vault");
    REQUIRE(v);
    id = v.value()->generate(key_type::data_key, key_lifetime::persistent).value();
    auto out = v.value()->export_data_key(id).value();
    exported.assign(out.view().begin(), out.view().end());
  }
  {
    auto v = vault::open_directory(dir.path / "vault");
    REQUIRE(v);
    auto out = v.value()->export_data_key(id);
    REQUIRE(out);
    CHECK(nodus::bytes(out.value().view().begin(), out.value().view().end()) == exported);
    REQUIRE(v.value()->remove(id));
  }
  auto v = vault::open_directory(dir.path / "vault");
  REQUIRE(v);
  CHECK(v.value()->export_data_key(id).error() == errc::unknown_key);
}
