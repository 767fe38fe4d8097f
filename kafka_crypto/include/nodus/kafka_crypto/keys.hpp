#pragma once
/// The data keys of end-to-end encrypted Kafka records, as the portals use them.
///
/// A key custodian (custodian.hpp), on the consumers' side, makes one data key per topic and
/// producer identity and hands it over a secure channel to that producer's node when the producer
/// is allowed, and to allowed consumer nodes when they meet a key they do not have. A portal
/// reaches keys through a `key_source`; the envelope of each record (envelope.hpp) names the key
/// it was sealed with and the rekey counter.
///
/// Timing, from a key's creation: producers use a key until `rotation` has passed (then ask for
/// the next), derive a new AEAD key every `rekey` (the counter in each envelope), and never seal
/// with a key older than `validity`; consumers read records of every key the custodian keeps.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/core/failure.hpp"
#include "nodus/node/task.hpp"
#include "nodus/vault/secret.hpp"

namespace nodus::kafka_crypto {

/// The name of a data key, written in every envelope sealed with it: 16 random bytes.
using key_name = std::array<std::uint8_t, 16>;

/// `name` as 32 lowercase hex digits, for logs and the command line.
std::string to_hex(const key_name& name);
/// The key name in 32 hex digits, or `errc::invalid_argument`.
result_or_failure<key_name> key_name_from_hex(std::string_view text);

struct key_timing {
  std::chrono::seconds rotation{std::chrono::hours(24)};
  std::chrono::seconds rekey{std::chrono::hours(1)};
  std::chrono::seconds validity{std::chrono::hours(30)};

  friend bool operator==(const key_timing&, const key_timing&) = default;
};

/// Why `timing` cannot be used (rekey <= rotation <= validity, each at least 1 s), or nothing.
std::optional<std::string> timing_problem(const key_timing& timing);

/// One data key: which topic and producer it is for, when it was made, and its 32 bytes.
struct data_key {
  key_name name{};
  std::string topic;
  /// The identifier (`I…`) of the producer identity it was issued to; bound into every record's
  /// associated data, so a record sealed by one producer cannot pass as another's.
  std::string producer;
  std::chrono::system_clock::time_point created;
  key_timing timing;
  vault::secret material;  ///< 32 bytes (AES-256-GCM after the rekey derivation)
};

using shared_key = std::shared_ptr<const data_key>;

/// Why a key could not be had; each failure's reason says more.
enum class key_error {
  refused = 1,  ///< the custodian does not allow this node's identity (any more)
  deleted,      ///< the custodian no longer has the key: what it sealed is unreadable
  expired,      ///< the newest key is past its validity and no newer one could be had
  unreachable,  ///< no answer from the custodian in time
};
const std::error_category& key_error_category() noexcept;
std::error_code make_error_code(key_error e) noexcept;

/// Where a portal gets keys. Thread-safe: called from every client connection's strand.
class key_source {
public:
  virtual ~key_source() = default;
  /// The key this node's producer seals `topic`'s records with now: one within its rotation
  /// period, asked of the custodian when there is none (waiting a bounded time). Fails with a
  /// reason a producer's user can act on, with a `key_error` code.
  virtual task<result_or_failure<shared_key>> key_for_producing(std::string topic) = 0;
  /// The key named in an envelope, from the cache or the custodian; fails with a `key_error`.
  virtual task<result_or_failure<shared_key>> key_by_name(key_name name) = 0;
};

}  // namespace nodus::kafka_crypto

template <>
struct std::is_error_code_enum<nodus::kafka_crypto::key_error> : std::true_type {};
