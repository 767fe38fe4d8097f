#pragma once
/// The key custodian: on the consumers' side, it makes one data key per (topic, producer
/// identity) per rotation period, keeps them, and hands them over secure channels to allowed
/// producers (their own keys) and allowed consumers (any key, by name).
///
///   auto custodian = kafka_crypto::key_custodian::open({.keys = node_vault,
///                                                       .state_file = dir / "kafka_custodian.json",
///                                                       .producers = {producer_id},
///                                                       .consumers = {consumer_id}}).value();
///   co_await kafka_crypto::start_custodian_worker(ctx, "kafka_custodian", custodian);
///   // expose "kafka_custodian" to a secure channel listener: the only way it can be reached
///
/// Who asks is the identifier the secure channel authenticated (the message's
/// `secure_channel.identifier` metadata), never anything written in a request. A message
/// made on this node (no origin) counts as coming from `local_identity`, when it is set.
/// The client side is custodian_client.hpp; the wire, custodian_protocol.hpp.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nodus/core/address.hpp"
#include "nodus/kafka_crypto/custodian_protocol.hpp"
#include "nodus/kafka_crypto/key_wrapper.hpp"
#include "nodus/kafka_crypto/keys.hpp"
#include "nodus/node/context.hpp"
#include "nodus/policy/policy.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::kafka_crypto {

/// The clock of custodians and clients: `std::chrono::system_clock::now` unless a test gives one.
using clock_fn = std::function<std::chrono::system_clock::time_point()>;

/// The address a node's custodian has unless told otherwise.
inline constexpr std::string_view default_custodian_address = "kafka_custodian";

struct custodian_options {
  /// Where the keys' bytes live (required). A directory vault keeps them across restarts when
  /// `state_file` is set too.
  std::shared_ptr<vault::vault> keys;
  /// The file of what the custodian knows of its keys (topic, producer, creation, timing, which
  /// vault key), written atomically on every change; empty: all in memory (tests).
  std::filesystem::path state_file;
  /// A key-encryption key held elsewhere (key_wrapper.hpp): new keys are then ephemeral in the
  /// vault and kept in the state file only wrapped by it (`wrapped_key`), unwrapped at open.
  /// Empty: the keys are persistent `data_key`s of the vault.
  std::shared_ptr<key_wrapper> kek;
  key_timing timing;
  /// Identifiers of the producers that may get keys, and of the consumers that may read any key.
  std::vector<std::string> producers;
  std::vector<std::string> consumers;
  /// Policies (docs/policies.md) over who asks, its identifier and its credential's attributes:
  /// a subject they allow is an allowed producer (consumer) too, e.g. `subject.kafka = "producer"`.
  std::optional<policy::policy> producer_policy;
  std::optional<policy::policy> consumer_policy;
  /// The identifier messages from this node's own workers count as (the node's identity), so a
  /// consumer inlet on the custodian's node reaches it without a channel; empty: refused.
  std::string local_identity;
  /// Keys kept at most (a producer asking for ever new topics stops getting keys).
  std::size_t max_keys = 100'000;
  clock_fn clock;
};

/// What `list_keys` says of one key: never its bytes.
struct key_info {
  key_name name{};
  std::string topic;
  std::string producer;
  std::chrono::system_clock::time_point created;
  key_timing timing;
};

/// The custodian's keys and rules, shared by its worker and its administration (the CLI).
/// Thread-safe. Refusals fail with a `key_error` code and a reason naming the identity.
class key_custodian {
public:
  /// Checks `o` (the timing with `timing_problem`, the vault set) and reads `o.state_file` if
  /// it exists; a file that does not read is a failure. A key whose bytes are no longer in the
  /// vault counts as deleted (a deletion interrupted after the bytes went). Wrapped keys are
  /// unwrapped with `o.kek` into ephemeral vault keys: one that does not unwrap (another KEK, the
  /// KEK unreachable) or no `o.kek` is a failure naming the key and the KEK.
  static result_or_failure<std::shared_ptr<key_custodian>> open(custodian_options o);
  ~key_custodian();

  /// The key `producer` seals `topic` with now: the current one, or a new one when there is
  /// none or it is older than the rotation period.
  result_or_failure<shared_key> key_for_producing(std::string_view producer, std::string_view topic);
  /// The key `name`, for an allowed consumer, or for the allowed producer it was made for.
  result_or_failure<shared_key> key_by_name(std::string_view who, const key_name& name);
  /// The same for a subject with attributes (`secure_channel::asking_subject`): the lists by its
  /// identifier, then the policies.
  result_or_failure<shared_key> key_for_producing(const policy::subject& producer, std::string_view topic);
  result_or_failure<shared_key> key_by_name(const policy::subject& who, const key_name& name);

  /// Changes who is allowed; takes effect for the next request. Allowing twice is no error.
  void allow_producer(std::string id);
  void allow_consumer(std::string id);
  /// False when `id` was not allowed.
  bool revoke_producer(std::string_view id);
  bool revoke_consumer(std::string_view id);
  std::vector<std::string> producers() const;
  std::vector<std::string> consumers() const;
  /// The policies' texts ("" when none).
  std::string producer_policy() const;
  std::string consumer_policy() const;

  /// Crypto-shredding: the key's bytes leave the vault and `key_by_name` answers `deleted`
  /// from then on. `key_error::deleted` when there is no such key (or it is already deleted).
  result_or_failure<> delete_key(const key_name& name);
  /// With a KEK: rotates it, then rewraps every wrapped key under the new version (the data keys
  /// stay the same, so what they sealed stays readable) and records them; the number of keys
  /// rewrapped. A failure after the rotation leaves the keys wrapped by the older version, which
  /// still unwraps. Without a KEK: `invalid_argument`.
  result_or_failure<std::size_t> rotate_kek();
  /// `key_wrapper::describe()` of the KEK, "" without one.
  std::string kek() const;
  /// The keys kept now, oldest first.
  std::vector<key_info> list_keys() const;
  const key_timing& timing() const noexcept;
  /// The identifier local messages count as (`custodian_options::local_identity`).
  const std::string& local_identity() const noexcept;
  /// The custodian's clock (the one of its options).
  std::chrono::system_clock::time_point now() const;

  struct state;

private:
  explicit key_custodian(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

/// Starts the worker that answers custodian requests at `at` (see custodian_protocol.hpp),
/// logging each refusal with the asking identifier. Reachable from other nodes only where `at`
/// is exposed (a secure channel listener's `expose`, or `context::expose`).
task<result<>> start_custodian_worker(context& ctx, address at, std::shared_ptr<key_custodian> custodian);

/// Who asks: `secure_channel::asking_identity`.

}  // namespace nodus::kafka_crypto
