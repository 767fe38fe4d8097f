#include "nodus/vault/errors.hpp"

#include "nodus/core/error.hpp"

namespace nodus::vault {
namespace {

class error_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "nodus.vault"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::unknown_key: return "no key with that id in the vault";
      case errc::wrong_key_type: return "key of the wrong type for this operation";
      case errc::invalid_key: return "invalid key bytes";
      case errc::weak_shared_secret: return "X25519 agreement gave the all-zero shared secret";
      case errc::authentication_failed: return "authentication failed";
      case errc::invalid_argument: return "invalid argument";
      case errc::storage_failed: return "vault storage could not be read or written";
      case errc::corrupted_file: return "corrupted vault file";
      case errc::insecure_permissions: return "vault file or directory accessible by others";
      case errc::untrusted_identity: return "identity or attestation does not verify";
      case errc::not_found: return "no identity with that name";
      case errc::already_exists: return "an identity with that name exists already";
      case errc::expired: return "attestation expired";
      case errc::crypto_failure: return "cryptographic library failure";
    }
    return "unknown vault error";
  }

  // Storage and library failures are environmental (disk, permissions, OpenSSL state), which
  // fits "resource_exhausted" better than blaming the caller's arguments or a peer.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::authentication_failed:
      case errc::untrusted_identity:
      case errc::expired:
      case errc::weak_shared_secret: return nodus::condition::denied;
      case errc::corrupted_file: return nodus::condition::protocol;
      case errc::unknown_key:
      case errc::not_found: return nodus::condition::not_found;
      case errc::wrong_key_type:
      case errc::invalid_key:
      case errc::invalid_argument:
      case errc::already_exists: return nodus::condition::invalid_argument;
      case errc::storage_failed:
      case errc::insecure_permissions:
      case errc::crypto_failure: return nodus::condition::resource_exhausted;
    }
    return {value, *this};
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace nodus::vault
