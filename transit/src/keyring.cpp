#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "keyring_state.hpp"
#include "nodus/core/base64.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/vault/atomic_file.hpp"

namespace nodus::transit {
namespace {

using clock = std::chrono::system_clock;

auto invalid(std::string why) { return nodus::fail(make_error_code(transit_errc::invalid_request), std::move(why)); }
auto internal(std::string why) { return nodus::fail(make_error_code(transit_errc::internal), std::move(why)); }
auto no_key(std::string_view name) {
  return nodus::fail(make_error_code(transit_errc::key_not_found),
                     "encryption key not found: '" + printable_cut(name, 128) + "'");
}

vault::key_type vault_type(key_type t) {
  return t == key_type::aes256_gcm96 ? vault::key_type::aes256_gcm : vault::key_type::chacha20_poly1305;
}

// "vault:v3:<base64>" split into 3 and the decoded bytes, with Vault's reasons for what is not.
struct parsed_ciphertext {
  int version = 0;
  bytes data;
};
result_or_failure<parsed_ciphertext> parse_ciphertext(std::string_view text) {
  constexpr std::string_view prefix = "vault:v";
  if (!text.starts_with(prefix)) return invalid("invalid ciphertext: no prefix");
  text.remove_prefix(prefix.size());
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return invalid("invalid ciphertext: wrong number of fields");
  parsed_ciphertext out;
  const auto* end = text.data() + colon;
  if (colon == 0 || std::from_chars(text.data(), end, out.version).ptr != end || out.version <= 0)
    return invalid("invalid ciphertext: version number could not be decoded");
  auto data = base64_decode(text.substr(colon + 1));
  if (!data) return invalid("invalid ciphertext: could not decode base64");
  out.data = std::move(*data);
  return out;
}

std::string with_prefix(int version, byte_view data) {
  return "vault:v" + std::to_string(version) + ":" + base64_encode(data);
}

}  // namespace

std::string_view type_name(key_type t) noexcept {
  return t == key_type::aes256_gcm96 ? "aes256-gcm96" : "chacha20-poly1305";
}

std::optional<key_type> parse_key_type(std::string_view name) noexcept {
  if (name == "aes256-gcm96") return key_type::aes256_gcm96;
  if (name == "chacha20-poly1305") return key_type::chacha20_poly1305;
  return std::nullopt;
}

bool valid_key_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

keyring::keyring(std::unique_ptr<state> s) : state_(std::move(s)) {}
keyring::~keyring() = default;

result_or_failure<std::shared_ptr<keyring>> keyring::open(std::shared_ptr<vault::vault> keys,
                                                          std::filesystem::path state_file) {
  auto s = std::make_unique<state>();
  s->keys = std::move(keys);
  s->file = std::move(state_file);
  std::error_code ec;
  if (std::filesystem::exists(s->file, ec)) {
    std::ifstream in(s->file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return internal("cannot read the transit key file " + s->file.string());
    auto named = detail::parse_keyring(text.str(), *s->keys, s->file.string());
    if (!named) return named.error();
    s->named = std::move(named).value();
  }
  return std::shared_ptr<keyring>(new keyring(std::move(s)));
}

namespace {

key_info info_of(const stored_key& k) {
  key_info out = k.info;
  for (const auto& [n, v] : k.versions) out.versions.push_back({n, v.created});
  return out;
}

result_or_failure<stored_version> new_version(vault::vault& keys, key_type type, int n) {
  auto aead = keys.generate(vault_type(type), vault::key_lifetime::persistent);
  if (!aead) return internal("cannot make a key: " + aead.error().message());
  auto mac = keys.generate(vault::key_type::secret_bytes, vault::key_lifetime::persistent);
  if (!mac) {
    (void)keys.remove(aead.value());
    return internal("cannot make a key: " + mac.error().message());
  }
  return stored_version{n, aead.value(), mac.value(), clock::now()};
}

result_or_failure<> save(const keyring::state& s) {
  if (s.file.empty()) return outcome::success();
  return vault::write_file_atomically(s.file, detail::keyring_text(s.named));
}

// The version to seal with: `asked` (0: the latest), refused below min_encryption_version.
result_or_failure<int> sealing_version(const key_info& k, int asked) {
  const int n = asked == 0 ? k.latest_version : asked;
  if (n > k.latest_version || n < k.min_available_version)
    return invalid("invalid key version " + std::to_string(asked));
  if (k.min_encryption_version > 0 && n < k.min_encryption_version)
    return invalid("requested version for encryption is less than the minimum encryption key version");
  return n;
}

// Whether a ciphertext or HMAC of version `n` may be opened: not below min_decryption_version
// (nor trimmed), not above the latest.
result_or_failure<> opening_version(const key_info& k, int n) {
  if (n < k.min_decryption_version || n < k.min_available_version)
    return invalid("ciphertext or signature version is disallowed by policy (too old)");
  if (n > k.latest_version)
    return invalid("invalid ciphertext: version " + std::to_string(n) + " of key '" + k.name + "' does not exist");
  return outcome::success();
}

}  // namespace

result_or_failure<key_info> keyring::create(std::string_view name, key_type type, bool derived, bool* created) {
  if (!valid_key_name(name))
    return invalid("invalid key name '" + printable_cut(name, 128) + "': use 1 to 128 of [A-Za-z0-9._-]");
  std::lock_guard lock(state_->mutex);
  if (created) *created = false;
  if (auto it = state_->named.find(name); it != state_->named.end()) return info_of(it->second);
  auto first = new_version(*state_->keys, type, 1);
  if (!first) return first.error();
  stored_key k;
  k.info.name = std::string(name);
  k.info.type = type;
  k.info.derived = derived;
  k.info.latest_version = 1;
  k.versions.emplace(1, first.value());
  auto [it, inserted] = state_->named.emplace(std::string(name), std::move(k));
  if (auto saved = save(*state_); !saved) {
    (void)state_->keys->remove(first.value().aead_key);
    (void)state_->keys->remove(first.value().hmac_key);
    state_->named.erase(it);
    return internal(saved.error().message());
  }
  if (created) *created = true;
  return info_of(it->second);
}

result_or_failure<key_info> keyring::read(std::string_view name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->named.find(name);
  if (it == state_->named.end()) return no_key(name);
  return info_of(it->second);
}

std::vector<std::string> keyring::names() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  for (const auto& [name, k] : state_->named) out.push_back(name);
  return out;
}

result_or_failure<key_info> keyring::rotate(std::string_view name) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->named.find(name);
  if (it == state_->named.end()) return no_key(name);
  auto& k = it->second;
  auto next = new_version(*state_->keys, k.info.type, k.info.latest_version + 1);
  if (!next) return next.error();
  k.versions.emplace(next.value().version, next.value());
  ++k.info.latest_version;
  if (auto saved = save(*state_); !saved) return internal(saved.error().message());
  return info_of(k);
}

result_or_failure<key_info> keyring::configure(std::string_view name, const key_settings& settings) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->named.find(name);
  if (it == state_->named.end()) return no_key(name);
  auto info = it->second.info;
  if (settings.min_decryption_version) {
    // Vault: 0 leaves it as it is; a version above the latest is refused.
    const int v = *settings.min_decryption_version;
    if (v < 0 || v > info.latest_version)
      return invalid("cannot set min_decryption_version to " + std::to_string(v) + ": the latest version is " +
                     std::to_string(info.latest_version));
    if (v > 0) info.min_decryption_version = std::max(v, info.min_available_version);
  }
  if (settings.min_encryption_version) {
    const int v = *settings.min_encryption_version;
    if (v < 0 || v > info.latest_version)
      return invalid("cannot set min_encryption_version to " + std::to_string(v) + ": the latest version is " +
                     std::to_string(info.latest_version));
    info.min_encryption_version = v;
  }
  if (info.min_encryption_version > 0 && info.min_encryption_version < info.min_decryption_version)
    return invalid("min_encryption_version must be 0 or at least min_decryption_version");
  if (settings.deletion_allowed) info.deletion_allowed = *settings.deletion_allowed;
  it->second.info = info;
  if (auto saved = save(*state_); !saved) return internal(saved.error().message());
  return info_of(it->second);
}

result_or_failure<> keyring::remove(std::string_view name) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->named.find(name);
  if (it == state_->named.end()) return no_key(name);
  if (!it->second.info.deletion_allowed) return invalid("deletion is not allowed for this key");
  auto versions = std::move(it->second.versions);
  state_->named.erase(it);
  if (auto saved = save(*state_); !saved) return internal(saved.error().message());
  for (const auto& [n, v] : versions) {
    (void)state_->keys->remove(v.aead_key);
    (void)state_->keys->remove(v.hmac_key);
  }
  return outcome::success();
}

result_or_failure<key_info> keyring::trim(std::string_view name, int min_available_version) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->named.find(name);
  if (it == state_->named.end()) return no_key(name);
  auto& k = it->second;
  if (min_available_version < k.info.min_available_version || min_available_version > k.info.latest_version)
    return invalid("min_available_version must be between " + std::to_string(k.info.min_available_version) +
                   " and the latest version " + std::to_string(k.info.latest_version));
  if (min_available_version > k.info.min_decryption_version)
    return invalid("cannot trim above min_decryption_version (" + std::to_string(k.info.min_decryption_version) + ")");
  if (k.info.min_encryption_version > 0 && min_available_version > k.info.min_encryption_version)
    return invalid("cannot trim above min_encryption_version (" + std::to_string(k.info.min_encryption_version) + ")");
  std::vector<stored_version> gone;
  while (!k.versions.empty() && k.versions.begin()->first < min_available_version) {
    gone.push_back(k.versions.begin()->second);
    k.versions.erase(k.versions.begin());
  }
  k.info.min_available_version = min_available_version;
  if (auto saved = save(*state_); !saved) return internal(saved.error().message());
  for (const auto& v : gone) {
    (void)state_->keys->remove(v.aead_key);
    (void)state_->keys->remove(v.hmac_key);
  }
  return info_of(k);
}

namespace {

// The AEAD cipher of one version, derived with the context for a derived key.
result_or_failure<vault::aead_cipher> cipher_for(vault::vault& keys, const key_info& k, const stored_version& v,
                                                 byte_view context) {
  if (k.derived && context.empty())
    return invalid(
        "missing 'context' for key derivation; the key was created using a derived key, which means "
        "additional, per-request information must be included in order to perform operations with the key");
  if (!k.derived && !context.empty()) return invalid("'context' given for a key that is not derived");
  if (!k.derived) {
    auto c = keys.aead(v.aead_key);
    if (!c) return internal("the vault cannot use key '" + k.name + "': " + c.error().message());
    return std::move(c).value();
  }
  const vault::derived_key out{vault_type(k.type), 32};
  auto derived = keys.hkdf_sha256(v.aead_key, std::nullopt, context, {&out, 1});
  if (!derived) return internal("cannot derive a key: " + derived.error().message());
  auto c = keys.aead(derived.value().front());
  (void)keys.remove(derived.value().front());  // the cipher holds its own copy
  if (!c) return internal("cannot use a derived key: " + c.error().message());
  return std::move(c).value();
}

}  // namespace

result_or_failure<sealed_text> keyring::encrypt(std::string_view name, byte_view plaintext, byte_view context,
                                                int key_version, byte_view associated_data) const {
  key_info info;
  stored_version version;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->named.find(name);
    if (it == state_->named.end()) return no_key(name);
    info = it->second.info;
    auto n = sealing_version(info, key_version);
    if (!n) return n.error();
    version = it->second.versions.at(n.value());
  }
  auto cipher = cipher_for(*state_->keys, info, version, context);
  if (!cipher) return cipher.error();
  bytes out = vault::random_bytes(vault::aead_nonce_size);
  out.reserve(out.size() + plaintext.size() + vault::aead_tag_size);
  const bytes nonce = out;
  if (auto sealed = cipher.value().seal(nonce, associated_data, plaintext, out); !sealed)
    return internal("cannot encrypt: " + sealed.error().message());
  return sealed_text{with_prefix(version.version, out), version.version};
}

result_or_failure<vault::secret> keyring::decrypt(std::string_view name, std::string_view ciphertext, byte_view context,
                                                  byte_view associated_data) const {
  auto parsed = parse_ciphertext(ciphertext);
  if (!parsed) return parsed.error();
  key_info info;
  stored_version version;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->named.find(name);
    if (it == state_->named.end()) return no_key(name);
    info = it->second.info;
    if (auto allowed = opening_version(info, parsed.value().version); !allowed) return allowed.error();
    version = it->second.versions.at(parsed.value().version);
  }
  const auto& data = parsed.value().data;
  if (data.size() < vault::aead_nonce_size + vault::aead_tag_size) return invalid("invalid ciphertext: too short");
  auto cipher = cipher_for(*state_->keys, info, version, context);
  if (!cipher) return cipher.error();
  bytes plain;
  const byte_view all(data);
  if (!cipher.value().open(all.first(vault::aead_nonce_size), associated_data, all.subspan(vault::aead_nonce_size),
                           plain))
    return invalid("cipher: message authentication failed");
  vault::secret out(plain);
  vault::wipe_bytes(plain.data(), plain.size());
  return out;
}

result_or_failure<sealed_text> keyring::rewrap(std::string_view name, std::string_view ciphertext, byte_view context,
                                               int key_version) const {
  auto plain = decrypt(name, ciphertext, context);
  if (!plain) return plain.error();
  return encrypt(name, plain.value().view(), context, key_version);
}

result_or_failure<std::string> keyring::hmac(std::string_view name, byte_view input, int key_version) const {
  stored_version version;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->named.find(name);
    if (it == state_->named.end()) return no_key(name);
    auto n = sealing_version(it->second.info, key_version);
    if (!n) return n.error();
    version = it->second.versions.at(n.value());
  }
  auto mac = state_->keys->hmac_sha256(version.hmac_key, input);
  if (!mac) return internal("cannot compute the HMAC: " + mac.error().message());
  return with_prefix(version.version, mac.value());
}

result_or_failure<bool> keyring::verify_hmac(std::string_view name, byte_view input, std::string_view mac) const {
  auto parsed = parse_ciphertext(mac);
  if (!parsed) return parsed.error();
  stored_version version;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->named.find(name);
    if (it == state_->named.end()) return no_key(name);
    if (auto allowed = opening_version(it->second.info, parsed.value().version); !allowed) return allowed.error();
    version = it->second.versions.at(parsed.value().version);
  }
  auto expected = state_->keys->hmac_sha256(version.hmac_key, input);
  if (!expected) return internal("cannot compute the HMAC: " + expected.error().message());
  const auto& got = parsed.value().data;
  if (got.size() != expected.value().size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < got.size(); ++i) diff |= got[i] ^ expected.value()[i];
  return diff == 0;
}

}  // namespace nodus::transit
