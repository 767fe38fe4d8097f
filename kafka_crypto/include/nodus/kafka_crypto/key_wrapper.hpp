#pragma once
/// A key-encryption key (KEK) held elsewhere: the key custodian keeps its data keys wrapped by
/// one, so its vault on disk holds no data key (docs/kafka-encryption.md, "Keys under a KEK").
///
///   auto kek = kafka_crypto::open_pkcs11_kek({.module = "/usr/lib/softhsm/libsofthsm2.so",
///                                             .token_label = "nodus", .pin_file = "pin",
///                                             .key_label = "custodian"}).value();
///   auto custodian = kafka_crypto::key_custodian::open({..., .kek = kek}).value();
///
/// Implementations are thread-safe; their calls block (a transit request waits at most its
/// timeout), and the custodian makes them only when it makes a key, at open and at a rotation.
/// Failures name the KEK (`describe()`), never a token or a PIN.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/vault/secret.hpp"

namespace nodus::kafka_crypto {

class key_wrapper {
public:
  virtual ~key_wrapper() = default;
  /// `key` encrypted under the KEK's current version, as printable text.
  virtual result_or_failure<std::string> wrap(byte_view key) = 0;
  /// The key a `wrap` made, under whichever version wrapped it.
  virtual result_or_failure<vault::secret> unwrap(std::string_view wrapped) = 0;
  /// The same key wrapped under the current version.
  virtual result_or_failure<std::string> rewrap(std::string_view wrapped) = 0;
  /// Makes a new current version; the older ones still unwrap.
  virtual result_or_failure<> rotate() = 0;
  /// What and where the KEK is, for messages: "transit key K at URL", "PKCS#11 key L in token T".
  virtual std::string describe() const = 0;
};

/// A Vault-transit-compatible service (docs/transit.md): POST /v1/transit/encrypt|decrypt|
/// rewrap/NAME and /v1/transit/keys/NAME/rotate with an X-Vault-Token.
struct transit_kek_options {
  /// http://HOST:PORT (loopback only) or https://HOST:PORT (verified against `ca_file`).
  std::string url;
  std::string key;
  std::string token;  ///< kept in memory only; never in a message
  std::filesystem::path ca_file;
  std::chrono::milliseconds timeout{5000};  ///< per request, connection included
};
/// Checks the options (the URL's scheme and host); no request is made until the first call.
result_or_failure<std::shared_ptr<key_wrapper>> open_transit_kek(transit_kek_options o);

/// An AES-256 key in a PKCS#11 token (SoftHSM2, an HSM), made there (sensitive, never
/// extractable) when the token has none with the label; versions are `LABEL`, `LABEL.v2`, ...
struct pkcs11_kek_options {
  std::filesystem::path module;  ///< the PKCS#11 library, loaded with dlopen
  std::string token_label;
  std::string pin;  ///< the user PIN; never in a message
  std::string key_label;
};
/// Loads the module, logs in to the token and finds (or makes) the key's current version.
result_or_failure<std::shared_ptr<key_wrapper>> open_pkcs11_kek(pkcs11_kek_options o);

/// The first line of `file`, for a token or PIN file: a failure naming the file (not its
/// contents) when it cannot be read or is empty.
result_or_failure<std::string> read_secret_file(const std::filesystem::path& file);

}  // namespace nodus::kafka_crypto
