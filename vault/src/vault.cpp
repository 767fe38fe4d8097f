// The vault's table of keys and the operations on keys behind handles. The lock guards the
// table only: operations copy the key's shared pointer and run outside it.
#include <openssl/err.h>
#include <openssl/proverr.h>

#include <algorithm>
#include <numeric>

#include "key_storage.hpp"
#include "key_table.hpp"
#include "known_store.hpp"
#include "openssl_crypto.hpp"

namespace nodus::vault {
namespace {

using detail::key_ptr;

constexpr std::size_t max_id_attempts = 4;  // 64 random bits per id: a retry is already unlikely

const unsigned char* ptr(byte_view v) noexcept {
  static const unsigned char empty = 0;
  return v.data() != nullptr ? v.data() : &empty;
}

// OpenSSL's X25519 refuses to output the all-zero secret and reports it as a failed
// derivation; anything else failing there is the library's fault.
std::error_code derive_error() noexcept {
  const auto reason = ERR_GET_REASON(ERR_peek_last_error());
  detail::clear_openssl_errors();
  return reason == PROV_R_FAILED_DURING_DERIVATION ? errc::weak_shared_secret : errc::crypto_failure;
}

bool all_zero(byte_view b) noexcept {
  // No early exit: how far the scan got would say something about the secret.
  return std::accumulate(b.begin(), b.end(), std::uint8_t{0},
                         [](std::uint8_t acc, std::uint8_t x) { return static_cast<std::uint8_t>(acc | x); }) == 0;
}

result<> check_outputs(std::span<const derived_key> outputs) {
  std::size_t total = 0;
  for (const derived_key& out : outputs) {
    if (detail::key_type_name(out.type).empty()) return errc::invalid_argument;
    // A derived data key could be read out, and with it what was derived from any secret.
    if (out.type == key_type::data_key) return errc::invalid_argument;
    if (out.type != key_type::secret_bytes && out.size != 32) return errc::invalid_argument;
    if (out.size > detail::hkdf_max_output) return errc::invalid_argument;
    total += out.size;
  }
  if (outputs.empty() || total > detail::hkdf_max_output) return errc::invalid_argument;
  return ok();
}

std::string describe(std::string_view what, key_type type, std::error_code code) {
  std::string text(what);
  const auto name = detail::key_type_name(type);
  text += name.empty() ? std::string(" key of type ") + std::to_string(static_cast<int>(type))
                       : " " + std::string(name) + " key";
  return text + ": " + code.message();
}

}  // namespace

vault::impl::impl() = default;
vault::impl::~impl() = default;

result<key_ptr> vault::impl::find(const key_id& id) const {
  std::lock_guard lock(mutex);
  auto it = keys.find(id.value);
  if (it == keys.end()) return errc::unknown_key;
  return it->second;
}

result<key_ptr> vault::impl::find(const key_id& id, std::initializer_list<key_type> allowed) const {
  auto key = find(id);
  if (key && std::find(allowed.begin(), allowed.end(), key.value()->type) == allowed.end()) return errc::wrong_key_type;
  return key;
}

result<key_id> vault::impl::add(key_ptr key) {
  for (std::size_t attempt = 0; attempt < max_id_attempts; ++attempt) {
    auto id = detail::new_key_id(key->type);
    if (!id) return id.error();
    std::lock_guard lock(mutex);
    if (keys.try_emplace(id.value(), key).second) return key_id{std::move(id).value()};
  }
  return errc::crypto_failure;
}

vault::vault(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
vault::~vault() = default;

std::shared_ptr<vault> vault::create_in_memory() {
  auto p = std::make_unique<impl>();
  p->known = detail::new_known_identities(nullptr);
  // The constructor is private, which rules out make_shared.
  return std::shared_ptr<vault>(new vault(std::move(p)));
}

result_or_failure<std::shared_ptr<vault>> vault::open_directory(const std::filesystem::path& directory) {
  auto root = detail::private_dir::open_root(directory);
  if (!root) return std::move(root).error();
  std::vector<detail::key_storage::stored_key> keys;
  auto storage = detail::key_storage::open(root.value(), keys);
  if (!storage) return std::move(storage).error();
  auto p = std::make_unique<impl>();
  p->directory = directory;
  p->root = std::move(root).value();
  p->storage = std::move(storage).value();
  // Points at p->root, which stays where it is: the impl lives on the heap until the vault goes.
  p->known = detail::new_known_identities(&p->root);
  for (auto& k : keys) p->keys.emplace(std::move(k.id), std::move(k.key));
  return std::shared_ptr<vault>(new vault(std::move(p)));
}

const std::filesystem::path& vault::directory() const noexcept { return impl_->directory; }

known_identities& vault::known() noexcept { return *impl_->known; }

// Persistent keys of a directory vault reach the disk before the table, so a key the caller
// was told about always has its file.
static result_or_failure<key_id> store(vault::impl& v, key_ptr key) {
  if (key->lifetime == key_lifetime::ephemeral || !v.storage) {
    auto id = v.add(std::move(key));
    if (!id) return fail(id.error(), "vault: could not allocate a key id");
    return std::move(id).value();
  }
  for (std::size_t attempt = 0; attempt < max_id_attempts; ++attempt) {
    auto id = detail::new_key_id(key->type);
    if (!id) return fail(id.error(), "vault: could not allocate a key id");
    auto written = v.storage->write(id.value(), *key);
    if (!written && written.error().code == errc::already_exists) continue;
    if (!written) return std::move(written).error();
    {
      std::lock_guard lock(v.mutex);
      if (v.keys.try_emplace(id.value(), key).second) return key_id{std::move(id).value()};
    }
    // An ephemeral key drew the same id meanwhile: take the file back and draw again.
    if (auto erased = v.storage->erase(id.value()); !erased) return std::move(erased).error();
  }
  return fail(errc::crypto_failure, "vault: could not allocate a key id");
}

result_or_failure<key_id> vault::generate(key_type type, key_lifetime lifetime) {
  auto key = detail::generate_key(type, lifetime);
  if (!key) return fail(key.error(), describe("vault: cannot generate", type, key.error()));
  return store(*impl_, std::move(key).value());
}

result_or_failure<key_id> vault::import_secret(key_type type, byte_view bytes, key_lifetime lifetime) {
  auto key = detail::make_key(type, secret(bytes), lifetime);
  if (!key) return fail(key.error(), describe("vault: cannot import", type, key.error()));
  return store(*impl_, std::move(key).value());
}

result_or_failure<> vault::remove(const key_id& id) {
  key_ptr key;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->keys.find(id.value);
    if (it == impl_->keys.end()) return fail(errc::unknown_key, "vault: no key " + id.value);
    key = std::move(it->second);
    impl_->keys.erase(it);
  }
  if (key->lifetime == key_lifetime::persistent && impl_->storage) {
    auto erased = impl_->storage->erase(id.value);
    if (!erased) {
      std::lock_guard lock(impl_->mutex);
      impl_->keys.emplace(id.value, std::move(key));
      return erased;
    }
  }
  return outcome::success();
}

std::vector<key_id> vault::list() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<key_id> ids;
  ids.reserve(impl_->keys.size());
  for (const auto& entry : impl_->keys) ids.push_back(key_id{entry.first});
  return ids;
}

result<key_type> vault::type_of(const key_id& id) const {
  auto key = impl_->find(id);
  if (!key) return key.error();
  return key.value()->type;
}

result<secret> vault::export_data_key(const key_id& id) const {
  auto key = impl_->find(id, {key_type::data_key});
  if (!key) return key.error();
  return secret(key.value()->bytes.view());
}

result<bytes> vault::public_key(const key_id& id) const {
  auto key = impl_->find(id, {key_type::x25519, key_type::ed25519});
  if (!key) return key.error();
  bytes out(32);
  std::size_t size = out.size();
  if (EVP_PKEY_get_raw_public_key(key.value()->pkey.get(), out.data(), &size) != 1 || size != out.size()) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return out;
}

result<key_id> vault::x25519_agree(const key_id& private_key, byte_view peer_public_key) {
  auto key = impl_->find(private_key, {key_type::x25519});
  if (!key) return key.error();
  if (peer_public_key.size() != 32) return errc::invalid_key;
  detail::evp_pkey_ptr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public_key.data(), 32));
  detail::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.value()->pkey.get(), nullptr));
  secret shared(32);
  std::size_t size = shared.size();
  if (!peer || !ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &size) != 1) return derive_error();
  if (size != shared.size()) return errc::crypto_failure;
  if (all_zero(shared.view())) return errc::weak_shared_secret;  // in case OpenSSL stops refusing it
  auto derived = detail::make_key(key_type::secret_bytes, std::move(shared), key_lifetime::ephemeral);
  if (!derived) return derived.error();
  return impl_->add(std::move(derived).value());
}

result<bytes> vault::sign(const key_id& ed25519_key, byte_view message) {
  auto key = impl_->find(ed25519_key, {key_type::ed25519});
  if (!key) return key.error();
  detail::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  bytes signature(64);
  std::size_t size = signature.size();
  // Ed25519 hashes internally: no digest is named, and the message goes in one call.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.value()->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &size, ptr(message), message.size()) != 1 || size != 64) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return signature;
}

result<bytes> vault::hmac_sha256(const key_id& key, byte_view data) const {
  auto found = impl_->find(key);
  if (!found) return found.error();
  bytes mac(detail::sha256_size);
  if (!detail::hmac_sha256_into(found.value()->bytes.view(), {data}, mac.data())) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  return mac;
}

result<std::vector<key_id>> vault::hkdf_sha256(const key_id& salt, const std::optional<key_id>& input, byte_view info,
                                               std::span<const derived_key> outputs) {
  if (auto checked = check_outputs(outputs); !checked) return checked.error();
  auto salt_key = impl_->find(salt);
  if (!salt_key) return salt_key.error();
  key_ptr input_key;
  if (input) {
    auto found = impl_->find(*input);
    if (!found) return found.error();
    input_key = std::move(found).value();
  }
  std::size_t total = 0;
  for (const derived_key& out : outputs) total += out.size;
  secret okm(total);
  if (!detail::hkdf_sha256_into(salt_key.value()->bytes.view(), input_key ? input_key->bytes.view() : byte_view{}, info,
                                okm.span())) {
    detail::clear_openssl_errors();
    return errc::crypto_failure;
  }
  std::vector<key_id> ids;
  std::size_t offset = 0;
  for (const derived_key& out : outputs) {
    auto key = detail::make_key(out.type, secret(okm.view().subspan(offset, out.size)), key_lifetime::ephemeral);
    auto id = key ? impl_->add(std::move(key).value()) : result<key_id>(key.error());
    if (!id) {
      for (const key_id& added : ids) (void)remove(added);
      return id.error();
    }
    ids.push_back(std::move(id).value());
    offset += out.size;
  }
  return ids;
}

}  // namespace nodus::vault
