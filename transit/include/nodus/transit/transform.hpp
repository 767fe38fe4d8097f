#pragma once
/// Format-preserving encryption as Vault's transform engine serves it: transformations (an FPE
/// key, a template saying which characters are encrypted, a tweak source) and roles (which
/// transformations a caller may use), so that a card number encrypts to another card number.
///
/// FF3-1 (NIST SP 800-38G Rev. 1) over AES-256, as Vault uses, or FF1 (`algorithm: ff1`, an
/// extension). Templates: `builtin/creditcardnumber` (16 digits, in groups of 4 optionally
/// separated by '-' or ' '), `builtin/socialsecuritynumber` (9 digits as 3-2-4, '-' optional),
/// and `nodus/digits` (any text with 6 to 56 digits: the digits are encrypted, every other
/// character kept where it is). Tweaks are 7 bytes: `supplied` by each request (base64),
/// `internal` (one random tweak kept with the transformation) or `generated` (random per
/// encoding and returned with it). The AES key is a persistent `data_key` in the node's vault;
/// the state file (`transit-transforms.json`) holds its vault id, never its bytes. Thread-safe.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/transit/errors.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::transit {

enum class fpe_algorithm { ff3_1, ff1 };
enum class tweak_source { supplied, internal, generated };

struct fpe_transformation {
  std::string name;
  std::string template_name;  ///< builtin/creditcardnumber, builtin/socialsecuritynumber, nodus/digits
  tweak_source tweaks = tweak_source::supplied;
  fpe_algorithm algorithm = fpe_algorithm::ff3_1;
  std::vector<std::string> allowed_roles;  ///< role names, or "*"
};

struct transform_role {
  std::string name;
  std::vector<std::string> transformations;
};

/// An encoding and, with generated tweaks, the tweak that decodes it (base64; else empty).
struct encoded_value {
  std::string value;
  std::string tweak;
};

class transformations {
public:
  static result_or_failure<std::shared_ptr<transformations>> open(std::shared_ptr<vault::vault> keys,
                                                                  std::filesystem::path state_file);
  ~transformations();
  transformations(const transformations&) = delete;
  transformations& operator=(const transformations&) = delete;

  /// Creates a transformation with a new key, or changes an existing one's roles (its template,
  /// algorithm and tweak source stay: changing them would make what it encoded undecodable).
  result_or_failure<fpe_transformation> write_transformation(const fpe_transformation& t);
  result_or_failure<fpe_transformation> read_transformation(std::string_view name) const;
  std::vector<std::string> transformation_names() const;
  /// Deletes it and its key: what it encoded can never be decoded again.
  result_or_failure<> delete_transformation(std::string_view name);

  result_or_failure<transform_role> write_role(const transform_role& r);
  result_or_failure<transform_role> read_role(std::string_view name) const;
  std::vector<std::string> role_names() const;
  result_or_failure<> delete_role(std::string_view name);

  /// Encodes `value` with `transformation` (empty: the role's only one) for `role`. `tweak` is
  /// base64 (only for a `supplied` tweak source, where it is required).
  result_or_failure<encoded_value> encode(std::string_view role, std::string_view transformation,
                                          std::string_view value, std::string_view tweak) const;
  result_or_failure<std::string> decode(std::string_view role, std::string_view transformation, std::string_view value,
                                        std::string_view tweak) const;

  struct state;

private:
  explicit transformations(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace nodus::transit
