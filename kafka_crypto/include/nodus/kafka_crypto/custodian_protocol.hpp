#pragma once
/// The messages between a key custodian's worker and its clients (custodian.hpp), over a secure
/// channel. Versioned msgpack arrays; every decoder is total (bytes in, a value or an error out)
/// and bounded, and every request gets a reply, a refusal included.
///
///   request: [version, op, request_id, topic, name]
///            op 1 (key for producing): topic set, name nil
///            op 2 (key by name):       topic "", name 16 bytes
///   reply:   [version, request_id, status, reason, key]
///            key (status ok only): [name, topic, producer, created_ms, age_ms,
///                                   rotation_s, rekey_s, validity_s, material (32 bytes)]
///
/// Who asks is never in the message: the custodian takes it from the secure channel the
/// request came through.

#include <cstdint>
#include <optional>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/kafka_crypto/keys.hpp"

namespace nodus::kafka_crypto {

inline constexpr std::uint8_t custodian_protocol_version = 1;
/// No request or reply is longer (a reply is about 500 bytes with the longest topic and reason).
inline constexpr std::size_t max_custodian_message = 4096;
/// Kafka's own limit on topic names.
inline constexpr std::size_t max_topic_size = 249;
inline constexpr std::size_t max_reason_size = 1024;
/// An identifier is `I` and 40 hex digits; a little room for other forms.
inline constexpr std::size_t max_identifier_size = 128;
inline constexpr std::size_t data_key_size = 32;

enum class custodian_op : std::uint8_t { key_for_producing = 1, key_by_name = 2 };

/// What a custodian answers; everything but `ok` comes with a reason.
enum class custodian_status : std::uint8_t {
  ok = 0,
  refused = 1,      ///< the asking identity is not allowed (any more)
  deleted = 2,      ///< no such key: deleted (crypto-shredded) or never made; the reason says which
  bad_request = 3,  ///< malformed, unknown op or version, bad topic
  unavailable = 4,  ///< the custodian could not make or read the key (its vault, its limit)
};

struct custodian_request {
  std::uint8_t version = custodian_protocol_version;
  custodian_op op = custodian_op::key_for_producing;
  std::uint64_t request_id = 0;
  std::string topic;  ///< key_for_producing
  key_name name{};    ///< key_by_name
};

struct custodian_reply {
  std::uint8_t version = custodian_protocol_version;
  std::uint64_t request_id = 0;
  custodian_status status = custodian_status::ok;
  std::string reason;
  /// Set when `status` is ok.
  std::optional<data_key> key;
  /// How old the key was at the custodian when it answered: the client judges rotation and
  /// validity by its own clock from this, so clocks that disagree do not matter.
  std::chrono::milliseconds age{0};
};

/// True for a topic Kafka accepts: 1 to 249 of [A-Za-z0-9._-].
bool valid_topic(std::string_view topic) noexcept;

bytes encode(const custodian_request& r);
/// The request in `payload`; `errc::malformed` (reason says which field), `too_large`,
/// `unsupported_version`.
result_or_failure<custodian_request> decode_custodian_request(byte_view payload);

bytes encode(const custodian_reply& r);
/// The reply in `payload`, its key's material in a wiped-on-destruction secret.
result_or_failure<custodian_reply> decode_custodian_reply(byte_view payload);

}  // namespace nodus::kafka_crypto
