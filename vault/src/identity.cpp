// Identities whose primary key lives in a vault: creation, rotation and attestation.
//
// An `identity` is a value (copies share the vault) and is not thread-safe; `identity_store`
// serialises the read-modify-write of a named one. A rotation erases the previous primary key,
// so a copy made before it can no longer sign.

#include "nodus/vault/identity.hpp"

#include <limits>
#include <string>
#include <utility>

#include "identity_attestation.hpp"
#include "identity_codec.hpp"

namespace nodus::vault {

namespace {

std::int64_t now_seconds() { return detail::unix_seconds(std::chrono::system_clock::now()); }

// A new ed25519 key and its public half. A key that cannot be used is removed again so that a
// failed create or rotate leaves nothing behind in a persistent vault.
result_or_failure<std::pair<key_id, bytes>> new_signing_key(vault& v, key_lifetime lifetime, const char* doing) {
  auto key = v.generate(key_type::ed25519, lifetime);
  if (!key) return fail(key.error().code, std::string(doing) + ": generating the key: " + key.error().message());
  auto pub = v.public_key(key.value());
  if (!pub) {
    (void)v.remove(key.value());
    return detail::fail_from(pub.error(), std::string(doing) + ": reading the new public key");
  }
  return std::pair{std::move(key).value(), std::move(pub).value()};
}

result_or_failure<bytes> sign_with(vault& v, const key_id& key, byte_view content, const std::string& doing) {
  auto signature = v.sign(key, content);
  if (!signature) return detail::fail_from(signature.error(), doing + ": signing with key " + key.value);
  return std::move(signature).value();
}

}  // namespace

identity::identity(std::shared_ptr<vault> v, change_history h, key_id k, identifier id)
    : vault_(std::move(v)), history_(std::move(h)), primary_key_(std::move(k)), id_(std::move(id)) {}

result_or_failure<identity> identity::create(std::shared_ptr<vault> v, key_lifetime lifetime) {
  if (!v) return fail(errc::invalid_argument, "identity create: no vault");
  auto key = new_signing_key(*v, lifetime, "identity create");
  if (!key) return key.error();
  auto& [kid, pub] = key.value();
  identity_change first{.public_key = std::move(pub), .created_at = now_seconds()};
  auto self = sign_with(*v, kid, first.signed_content(), "identity create");
  if (!self) {
    (void)v->remove(kid);
    return self.error();
  }
  first.self_signature = std::move(self).value();
  change_history history({std::move(first)});
  identifier id = history.id();
  return identity(std::move(v), std::move(history), std::move(kid), std::move(id));
}

result_or_failure<identity> identity::from_history(std::shared_ptr<vault> v, change_history history,
                                                   key_id primary_key) {
  if (!v) return fail(errc::invalid_argument, "identity: no vault");
  auto id = history.verify();
  if (!id) return id.error();
  const std::string who = "identity " + id.value() + ": vault key " + primary_key.value;
  auto type = v->type_of(primary_key);
  if (!type) return detail::fail_from(type.error(), who);
  if (type.value() != key_type::ed25519) return fail(errc::wrong_key_type, who + " is not an ed25519 key");
  auto pub = v->public_key(primary_key);
  if (!pub) return detail::fail_from(pub.error(), who);
  if (pub.value() != history.primary_public_key())
    return fail(errc::invalid_key, who + " is not the identity's current primary key");
  return identity(std::move(v), std::move(history), std::move(primary_key), std::move(id).value());
}

result_or_failure<> identity::rotate(key_lifetime lifetime) {
  auto previous = rotate_keeping_previous(lifetime);
  if (!previous) return previous.error();
  return erase_previous(previous.value());
}

result_or_failure<> identity::erase_previous(const key_id& previous) {
  auto erased = vault_->remove(previous);
  if (erased) return outcome::success();
  return fail(erased.error().code, "identity " + id_ + " rotated (now " + std::to_string(history_.changes().size()) +
                                       " changes), but its previous primary key " + previous.value +
                                       " is still in the vault: " + erased.error().message());
}

result_or_failure<key_id> identity::rotate_keeping_previous(key_lifetime lifetime) {
  const std::string doing = "identity " + id_ + " rotate";
  if (!vault_) return fail(errc::invalid_argument, doing + ": no vault (a moved-from identity)");
  if (history_.changes().size() >= max_history_changes)
    return fail(nodus::errc::too_large, doing + ": the history has " + std::to_string(history_.changes().size()) +
                                            " changes already, the most a history may carry");
  auto key = new_signing_key(*vault_, lifetime, doing.c_str());
  if (!key) return key.error();
  auto& [kid, pub] = key.value();
  identity_change next{.previous = sha256(history_.changes().back().signed_content()),
                       .public_key = std::move(pub),
                       .created_at = now_seconds()};
  const bytes content = next.signed_content();
  auto self = sign_with(*vault_, kid, content, doing);
  auto by_previous = self ? sign_with(*vault_, primary_key_, content, doing) : self;
  if (!by_previous) {
    (void)vault_->remove(kid);
    return by_previous.error();
  }
  next.self_signature = std::move(self).value();
  next.previous_signature = std::move(by_previous).value();
  // Built aside and swapped in last, so a failure above leaves this identity as it was.
  auto changes = history_.changes();
  changes.push_back(std::move(next));
  history_ = change_history(std::move(changes));
  return std::exchange(primary_key_, std::move(kid));
}

result_or_failure<attestation> identity::attest(byte_view static_public_key, std::chrono::seconds validity) {
  const std::string doing = "identity " + id_ + " attest";
  if (!vault_) return fail(errc::invalid_argument, doing + ": no vault (a moved-from identity)");
  if (static_public_key.size() != detail::public_key_size)
    return fail(errc::invalid_argument,
                doing + ": a static key of " + std::to_string(static_public_key.size()) + " bytes, expected 32");
  const std::int64_t now = now_seconds();
  if (validity.count() <= 0 || validity.count() > std::numeric_limits<std::int64_t>::max() - now)
    return fail(errc::invalid_argument,
                doing + ": validity of " + std::to_string(validity.count()) + " s is not positive or too long");
  attestation a{.change_hash = sha256(history_.changes().back().signed_content()),
                .subject_key = bytes(static_public_key.begin(), static_public_key.end()),
                .expires_at = now + validity.count()};
  auto signature =
      sign_with(*vault_, primary_key_,
                detail::attestation_signed_content(a.version, a.change_hash, a.subject_key, a.expires_at), doing);
  if (!signature) return signature.error();
  a.signature = std::move(signature).value();
  return a;
}

}  // namespace nodus::vault
