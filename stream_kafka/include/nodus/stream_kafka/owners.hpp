#pragma once
/// Who the streams of a members-only hub belong to (docs/hub.md): the identity that created a
/// stream, and the other identities it was created for (`stream_request::parties`).
///
/// The owners live in Kafka, next to the streams: one record per change in the compacted topic
/// `__nodus_stream_owners` (key: the stream; value: msgpack `[1, stream, owner, [parties...]]`),
/// read from its start when the services start. So ownership survives a restart of the hub
/// exactly as long as the streams do: a real cluster keeps both, and the embedded cluster,
/// which forgets its streams when the hub stops, forgets their owners with them (a file would
/// instead keep owners of streams that no longer exist, and could not be shared by the hubs of
/// one cluster). Clients cannot name the topic: stream names starting with `__` are refused.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/policy/policy.hpp"
#include "nodus/stream/protocol.hpp"
#include "nodus/stream_kafka/kafka.hpp"
#include "nodus/stream_kafka/owner_record.hpp"

namespace nodus::stream_kafka {

/// The topic the owners are kept in.
inline constexpr std::string_view owners_topic = "__nodus_stream_owners";

/// Who one stream belongs to.
struct stream_owner {
  std::string owner;                 ///< the identifier that created it
  std::vector<std::string> parties;  ///< the others it is for
  /// True for the owner and the parties.
  bool admits(std::string_view id) const;
  friend bool operator==(const stream_owner&, const stream_owner&) = default;
};

/// The record's bytes, or why they are not one (total and bounded: any bytes in): version 1, a
/// valid stream name, identifiers for the owner and at most `stream::max_stream_parties` parties.
result_or_failure<owner_record> decode_owner_record(byte_view value);
bytes encode_owner_record(const owner_record& record);

/// True for `I` followed by 40 lowercase hex digits.
bool valid_identifier(std::string_view id) noexcept;

/// The owners of a hub's streams, shared by its stream and index services. Thread-safe.
class stream_owners {
public:
  /// Owners kept in `topic` of the cluster `kafka` reaches; what reading finds goes to `log`.
  static std::shared_ptr<stream_owners> create(std::shared_ptr<kafka_client> kafka,
                                               std::string topic = std::string(owners_topic),
                                               std::shared_ptr<spdlog::logger> log = nullptr);

  /// Starts reading the topic from its start, unless it is read or being read (the services
  /// call it when they start). Reading is over once `loaded()`; a failure is logged, kept for
  /// `not_ready`, and the next `load` tries again.
  void load();
  /// True once every record present when reading started has been read.
  bool loaded() const;
  /// Until `loaded()`: the error to answer requests with (`kafka_unavailable`), and reading is
  /// started again if it had failed. Empty once loaded.
  std::optional<stream::stream_error> not_ready();

  /// Who `stream` belongs to, if anyone.
  std::optional<stream_owner> find(const std::string& stream) const;
  /// `who` creates `stream` for `parties`: a new stream becomes its own (recorded in Kafka before
  /// `done` is called without error); its owner may change its parties; a party may create it
  /// again (nothing changes); anyone else is refused (`forbidden`).
  void claim(const std::string& stream, const std::string& who, std::vector<std::string> parties,
             std::function<void(stream::stream_error)> done);

  struct state;

private:
  explicit stream_owners(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

/// The members-only mode of the stream services (docs/hub.md).
struct stream_membership {
  /// Who may use the services at all, over the subject its secure channel authenticated, e.g.
  /// `authority::members_of(project)`. The default policy refuses everyone.
  policy::policy allow;
  /// The streams' owners: the same object for both services.
  std::shared_ptr<stream_owners> owners;
};

}  // namespace nodus::stream_kafka
