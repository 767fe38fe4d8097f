#pragma once
/// The envelope of a sealed record value, and the associated data that binds it to its place.
///
///   offset  field          size
///        0  magic "NK"        2
///        2  version (1)       1
///        3  key name         16   the data key (keys.hpp)
///       19  rekey counter     4   big-endian; the AEAD key is HKDF(data key, counter)
///       23  session           8   random per producer connection at the inlet
///       31  sequence          8   big-endian, from 1, per session, topic and partition
///       39  nonce            12   random
///       51  ciphertext       n    AES-256-GCM of the value
///     51+n  tag              16
///
/// A sealed record also carries the header `nodus.e2e` (value "1"), so that sealed and plain
/// records can be told apart without guessing from the value's bytes.
///
/// The associated data binds each value to the topic, the partition, the record's key and
/// headers (all but `nodus.e2e`), the producer identity the data key was issued to, and the
/// envelope's own fields before the nonce: a ciphertext moved to another topic or partition, given
/// another key or headers, or passed off as another producer's fails to open; one replayed or
/// reordered opens, and the consumer's sequence tracker (sequence_tracker.hpp) catches it.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka/records/record.hpp"
#include "nodus/kafka_crypto/keys.hpp"

namespace nodus::kafka_crypto {

/// The header key that marks a sealed value (its value is "1").
inline constexpr std::string_view sealed_header = "nodus.e2e";
/// The header key a consumer's inlet adds, under the `tag` policy, to a record it could not
/// open; its value says why.
inline constexpr std::string_view undecryptable_header = "nodus.undecryptable";
/// The header a consumer's inlet adds, when asked to (`--report-header`), to the record after a
/// gap or a replay in its partition, saying what was found.
inline constexpr std::string_view report_header = "nodus.report";

inline constexpr std::uint8_t envelope_version = 1;
inline constexpr std::size_t envelope_prefix_size = 39;  ///< magic to sequence: bound into the AAD
inline constexpr std::size_t envelope_nonce_size = 12;
inline constexpr std::size_t envelope_tag_size = 16;
/// The bytes sealing adds to a value.
inline constexpr std::size_t envelope_overhead = envelope_prefix_size + envelope_nonce_size + envelope_tag_size;

using session_id = std::array<std::uint8_t, 8>;

/// An envelope read from a value; `sealed` (ciphertext and tag) points into that value.
struct envelope {
  key_name key{};
  std::uint32_t rekey_counter = 0;
  session_id session{};
  std::uint64_t sequence = 0;
  std::array<std::uint8_t, envelope_nonce_size> nonce{};
  byte_view prefix;  ///< the value's first `envelope_prefix_size` bytes
  byte_view sealed;
};

/// The envelope in `value`: `errc::malformed` when it is shorter than an empty value's envelope
/// or does not start with the magic, `errc::unsupported_version` for another version.
result_or_failure<envelope> read_envelope(byte_view value);

/// Appends magic, version, key, counter, session and sequence (the prefix) to `out`.
void write_envelope_prefix(const key_name& key, std::uint32_t rekey_counter, const session_id& session,
                           std::uint64_t sequence, bytes& out);

/// Where a record is, for its associated data.
struct record_place {
  std::string_view topic;
  std::int32_t partition = 0;
};

/// The associated data of a record: a label, then each part length-prefixed (so no two
/// different inputs give the same bytes). `headers` are the record's headers other than
/// `sealed_header`, in order. `field` is set for one field of a JSON value sealed alone
/// (`--encrypted-field`): its path and the list of paths sealed, bound as one more part.
bytes associated_data(const record_place& place, const std::optional<bytes>& record_key,
                      const std::vector<kafka::records::header>& headers, std::string_view producer,
                      byte_view envelope_prefix, std::string_view field = {});

/// Whether `headers` has `sealed_header`.
bool has_sealed_header(const std::vector<kafka::records::header>& headers) noexcept;

}  // namespace nodus::kafka_crypto
