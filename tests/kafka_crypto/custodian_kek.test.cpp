// A custodian whose keys are under a key-encryption key (a fake one here: XOR with a secret
// pad, versioned; the transit and PKCS#11 ones are exercised by tests/integration/custodian_kek.py):
// the state file keeps wrapped keys, the vault directory no data key; a restart unwraps them;
// a KEK rotation rewraps without changing the keys; another KEK is refused, naming it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "custodian_fixture.hpp"
#include "nodus/core/base64.hpp"
#include "temp_dir.hpp"

using namespace nodus;
using namespace nodus::test;
namespace fs = std::filesystem;

namespace {

std::string hex(byte_view b) {
  std::string s;
  for (auto x : b) s += fmt::format("{:02x}", x);
  return s;
}

// "fake:NAME:vN:HEX", the key XORed with a pad per (NAME, version). Not cryptography: enough to
// see which KEK and which version wrapped a key, and that the state file holds no key bytes.
class fake_kek final : public kc::key_wrapper {
public:
  explicit fake_kek(std::string name) : name_(std::move(name)) {}

  result_or_failure<std::string> wrap(byte_view key) override {
    ++wraps;
    if (failing) return fail(std::make_error_code(std::errc::host_unreachable), "unreachable (a test)");
    return "fake:" + name_ + ":v" + std::to_string(version) + ":" + hex(xored(key, version));
  }
  result_or_failure<vault::secret> unwrap(std::string_view wrapped) override {
    const std::string prefix = "fake:" + name_ + ":v";
    if (!wrapped.starts_with(prefix))
      return fail(std::make_error_code(std::errc::permission_denied), "not wrapped by this KEK");
    wrapped.remove_prefix(prefix.size());
    const auto colon = wrapped.find(':');
    const int v = std::stoi(std::string(wrapped.substr(0, colon)));
    const auto text = wrapped.substr(colon + 1);
    bytes b;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2)
      b.push_back(static_cast<std::uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
    return vault::secret(byte_view(xored(b, v)));
  }
  result_or_failure<std::string> rewrap(std::string_view wrapped) override {
    ++rewraps;
    auto key = unwrap(wrapped);
    if (!key) return std::move(key).error();
    return wrap(key.value().view());
  }
  result_or_failure<> rotate() override {
    ++version;
    return outcome::success();
  }
  std::string describe() const override { return "fake KEK " + name_; }

  int version = 1, wraps = 0, rewraps = 0;
  bool failing = false;

private:
  bytes xored(byte_view key, int v) const {
    const std::string seed = name_ + std::to_string(v);
    const auto pad = vault::sha256(byte_view(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()));
    bytes out(key.begin(), key.end());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] ^= pad[i % pad.size()];
    return out;
  }
  std::string name_;
};

const std::string producer = "I0000000000000000000000000000000000000001";
const std::string consumer = "I0000000000000000000000000000000000000002";

result_or_failure<std::shared_ptr<kc::key_custodian>> open_in(const temp_dir& dir, const test_clock& clock,
                                                              std::shared_ptr<kc::key_wrapper> kek) {
  auto v = vault::vault::open_directory(dir.path / "vault");
  REQUIRE_MESSAGE(v, v.error().message());
  return kc::key_custodian::open({.keys = v.value(),
                                  .state_file = dir.path / "kafka_custodian.json",
                                  .kek = std::move(kek),
                                  .timing = short_timing,
                                  .producers = {producer},
                                  .consumers = {consumer},
                                  .clock = clock.fn()});
}

std::string state_text(const temp_dir& dir) {
  std::ifstream in(dir.path / "kafka_custodian.json");
  return {std::istreambuf_iterator<char>(in), {}};
}

// Every file under the vault directory, read whole.
std::string vault_files(const temp_dir& dir) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir.path / "vault"))
    if (e.is_regular_file()) {
      std::ifstream in(e.path(), std::ios::binary);
      all += std::string(std::istreambuf_iterator<char>(in), {});
    }
  return all;
}

bool holds(const std::string& haystack, byte_view key) {
  return haystack.find(std::string(reinterpret_cast<const char*>(key.data()), key.size())) != std::string::npos ||
         haystack.find(hex(key)) != std::string::npos;
}

}  // namespace

TEST_CASE("under a KEK the state file keeps wrapped keys and the vault directory no data key") {
  temp_dir dir;
  test_clock clock;
  auto kek = std::make_shared<fake_kek>("one");
  kc::shared_key orders, payments;
  {
    auto c = open_in(dir, clock, kek).value();
    CHECK(c->kek() == "fake KEK one");
    orders = c->key_for_producing(producer, "orders").value();
    payments = c->key_for_producing(producer, "payments").value();
    CHECK(kek->wraps == 2);
    CHECK(c->key_for_producing(producer, "orders").value()->name == orders->name);
    CHECK(kek->wraps == 2);  // a current key is not wrapped again
  }
  const auto text = state_text(dir);
  CHECK(text.find("wrapped_key") != std::string::npos);
  CHECK(text.find("fake:one:v1:") != std::string::npos);
  CHECK(text.find("vault_key") == std::string::npos);
  CHECK_FALSE(holds(text, orders->material.view()));
  {
    auto v = vault::vault::open_directory(dir.path / "vault").value();
    for (const auto& id : v->list()) CHECK(v->type_of(id).value() != vault::key_type::data_key);
  }
  const auto files = vault_files(dir);
  CHECK_FALSE(holds(files, orders->material.view()));
  CHECK_FALSE(holds(files, payments->material.view()));

  auto c = open_in(dir, clock, kek).value();
  auto again = c->key_by_name(consumer, orders->name);
  REQUIRE_MESSAGE(again, again.error().message());
  CHECK(same_bytes(*again.value(), *orders));
  CHECK(c->key_for_producing(producer, "payments").value()->name == payments->name);  // still current
  CHECK(c->list_keys().size() == 2);
}

TEST_CASE("a KEK rotation rewraps every key without changing it") {
  temp_dir dir;
  test_clock clock;
  auto kek = std::make_shared<fake_kek>("one");
  kc::shared_key orders, payments;
  {
    auto c = open_in(dir, clock, kek).value();
    orders = c->key_for_producing(producer, "orders").value();
    payments = c->key_for_producing(producer, "payments").value();
    REQUIRE(c->delete_key(payments->name));
    auto rotated = c->rotate_kek();
    REQUIRE_MESSAGE(rotated, rotated.error().message());
    CHECK(rotated.value() == 1);
    CHECK(kek->rewraps == 1);
    CHECK(same_bytes(*c->key_by_name(consumer, orders->name).value(), *orders));
  }
  const auto text = state_text(dir);
  CHECK(text.find("fake:one:v2:") != std::string::npos);
  CHECK(text.find("fake:one:v1:") == std::string::npos);
  auto c = open_in(dir, clock, kek).value();
  CHECK(same_bytes(*c->key_by_name(consumer, orders->name).value(), *orders));
  CHECK(c->key_by_name(consumer, payments->name).error().code == kc::key_error::deleted);
  // A key made after the rotation is wrapped by the new version.
  clock.advance(std::chrono::seconds(61));
  auto fresh = c->key_for_producing(producer, "orders").value();
  CHECK(fresh->name != orders->name);
  CHECK(state_text(dir).find("fake:one:v2:") != std::string::npos);
}

TEST_CASE("a wrong KEK, or none, is refused with a reason naming the key and the KEK") {
  temp_dir dir;
  test_clock clock;
  kc::shared_key orders;
  {
    auto c = open_in(dir, clock, std::make_shared<fake_kek>("one")).value();
    orders = c->key_for_producing(producer, "orders").value();
  }
  auto wrong = open_in(dir, clock, std::make_shared<fake_kek>("two"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().reason.find("fake KEK two") != std::string::npos);
  CHECK(wrong.error().reason.find(kc::to_hex(orders->name)) != std::string::npos);
  CHECK(wrong.error().reason.find("not wrapped by this KEK") != std::string::npos);
  auto none = open_in(dir, clock, nullptr);
  REQUIRE_FALSE(none);
  CHECK(none.error().reason.find("wrapped by a KEK") != std::string::npos);
  // The failed opens left no data key behind in the vault.
  auto v = vault::vault::open_directory(dir.path / "vault").value();
  for (const auto& id : v->list()) CHECK(v->type_of(id).value() != vault::key_type::data_key);
}

TEST_CASE("a KEK that cannot wrap makes no key; without a KEK there is nothing to rotate") {
  temp_dir dir;
  test_clock clock;
  auto kek = std::make_shared<fake_kek>("one");
  auto c = open_in(dir, clock, kek).value();
  kek->failing = true;
  auto refused = c->key_for_producing(producer, "orders");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().reason.find("fake KEK one") != std::string::npos);
  CHECK(refused.error().reason.find("unreachable") != std::string::npos);
  CHECK(c->list_keys().empty());
  kek->failing = false;
  CHECK(c->key_for_producing(producer, "orders"));

  temp_dir plain_dir;
  auto plain = open_in(plain_dir, clock, nullptr).value();
  CHECK(plain->kek().empty());
  auto key = plain->key_for_producing(producer, "orders").value();
  CHECK(state_text(plain_dir).find("vault_key") != std::string::npos);
  CHECK(state_text(plain_dir).find("wrapped_key") == std::string::npos);
  CHECK(plain->rotate_kek().error().code == std::errc::invalid_argument);
}

// The PKCS#11 KEK against SoftHSM2 (Debian's softhsm2), in a token directory of the test's own;
// skipped when SoftHSM2 is not installed. One test case: the module reads SOFTHSM2_CONF once per
// process.
TEST_CASE("a PKCS#11 KEK in SoftHSM2: wrapped keys, restart, rotation, a wrong PIN") {
  const fs::path module = "/usr/lib/softhsm/libsofthsm2.so";
  if (!fs::exists(module) || std::system("command -v softhsm2-util >/dev/null 2>&1") != 0) {
    MESSAGE("SoftHSM2 is not installed: skipped");
    return;
  }
  temp_dir dir;
  fs::create_directories(dir.path / "tokens");
  std::ofstream(dir.path / "softhsm2.conf") << "directories.tokendir = " << (dir.path / "tokens").string()
                                            << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  ::setenv("SOFTHSM2_CONF", (dir.path / "softhsm2.conf").c_str(), 1);
  REQUIRE(std::system("softhsm2-util --init-token --free --label kektest --pin 2468 --so-pin 1357 >/dev/null") == 0);
  auto open_kek = [&](std::string pin) {
    return kc::open_pkcs11_kek(
        {.module = module, .token_label = "kektest", .pin = std::move(pin), .key_label = "custodian"});
  };
  auto wrong = open_kek("0000");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().reason.find("wrong PIN") != std::string::npos);
  CHECK(wrong.error().reason.find("0000") == std::string::npos);
  CHECK(open_kek("2468").value()->describe().find("token 'kektest'") != std::string::npos);
  CHECK(open_kek("0000").error().reason.find("wrong PIN") != std::string::npos);  // already logged in
  auto missing = kc::open_pkcs11_kek({.module = module, .token_label = "none", .pin = "2468", .key_label = "k"});
  CHECK(missing.error().reason.find("no token labelled 'none'") != std::string::npos);

  test_clock clock;
  kc::shared_key orders, payments;
  {
    auto c = open_in(dir, clock, open_kek("2468").value()).value();
    orders = c->key_for_producing(producer, "orders").value();
    payments = c->key_for_producing(producer, "payments").value();
  }
  const auto text = state_text(dir);
  CHECK(text.find("\"wrapped_key\": \"p11:v1:") != std::string::npos);
  CHECK(text.find("vault_key") == std::string::npos);
  std::string everything;  // the vault, the state file and the token's files
  for (const auto& e : fs::recursive_directory_iterator(dir.path))
    if (e.is_regular_file()) {
      std::ifstream in(e.path(), std::ios::binary);
      everything += std::string(std::istreambuf_iterator<char>(in), {});
    }
  for (const auto* k : {&orders, &payments}) {
    CHECK_FALSE(holds(everything, (*k)->material.view()));
    CHECK(everything.find(base64_encode((*k)->material.view())) == std::string::npos);
  }
  {
    auto c = open_in(dir, clock, open_kek("2468").value()).value();
    CHECK(same_bytes(*c->key_by_name(consumer, orders->name).value(), *orders));
    auto rotated = c->rotate_kek();
    REQUIRE_MESSAGE(rotated, rotated.error().message());
    CHECK(rotated.value() == 2);
  }
  CHECK(state_text(dir).find("p11:v1:") == std::string::npos);
  CHECK(state_text(dir).find("p11:v2:") != std::string::npos);
  auto kek = open_kek("2468").value();  // finds custodian.v2 as the current version
  auto c = open_in(dir, clock, kek).value();
  CHECK(same_bytes(*c->key_by_name(consumer, orders->name).value(), *orders));
  CHECK(same_bytes(*c->key_by_name(consumer, payments->name).value(), *payments));
  auto again = kek->wrap(orders->material.view()).value();
  CHECK(again.starts_with("p11:v2:"));
  const auto swapped = kek->unwrap("p11:v1:" + again.substr(7));  // the v2 text under v1: refused
  REQUIRE_FALSE(swapped);
  CHECK(swapped.error().reason.find("version 1: does not decrypt") != std::string::npos);
  CHECK(kek->unwrap("p11:v9:" + again.substr(7)).error().reason.find("custodian.v9") != std::string::npos);
  CHECK_FALSE(kek->unwrap("nonsense"));
}
