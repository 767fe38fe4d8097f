#pragma once
/// The messages between stream clients (Alice, Bob) and a hub's stream services, over any route.
/// All are versioned msgpack; errors travel as values (`stream_error`), never as silence.
///
///   "stream_kafka"        create_stream -> stream_created
///                         push          -> push_confirm   (after the broker acknowledged it)
///                         push_batch    -> push_confirm   (several messages, in order, one record each)
///                         pull          -> pull_response  (long poll: up to `wait_ms` for data)
///                         readers       -> readers_reply  (who pulls the stream, as far as the hub knows)
///   "stream_kafka_index"  get_index     -> index_reply
///                         save_index    -> index_reply
///
/// Each service is a worker taking `stream_request` / `index_request` (a tagged union: `kind`
/// says which fields are meaningful) and answering on the return route with the matching reply,
/// which echoes `request_id` so a client can match replies to requests and drop stale ones.
/// One stream is one Kafka topic (single partition, created if missing); an index is the offset
/// of the next message a client wants (Kafka's consumer-group offset semantics).
///
/// A members-only hub (docs/hub.md) takes requests only through a secure channel from members:
/// a stream belongs to its creator and the `parties` it named, and the index of a client id is
/// the calling identity's own. Anyone else is answered `forbidden`, with the reason.

#include <cstdint>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "nodus/core/bytes.hpp"

namespace nodus::stream {

inline constexpr std::uint8_t protocol_version = 1;

/// Why a request failed; `none` on success.
enum class stream_errc : std::uint8_t {
  none = 0,
  bad_request,  ///< malformed, unknown kind, negative index, limit 0, bad name, ...
  unsupported_version,
  unknown_stream,     ///< pull or index for a stream that was never created
  kafka_unavailable,  ///< the broker could not be reached or did not acknowledge in time
  too_large,          ///< a pushed message over the service's limit
  internal,           ///< anything else; `reason` says what
  forbidden,          ///< a members-only hub refuses the sender: not a member, or not one the stream is for
};

/// The most identifiers a create request may name besides its sender (`stream_request::parties`).
inline constexpr std::size_t max_stream_parties = 16;

/// An error as it crosses nodes: a code for programs, a reason for people.
struct stream_error {
  stream_errc code = stream_errc::none;
  std::string reason;
  explicit operator bool() const noexcept { return code != stream_errc::none; }
  MSGPACK_DEFINE(code, reason)
};

/// A request to "stream_kafka".
struct stream_request {
  enum class kind_t : std::uint8_t { create = 1, push = 2, pull = 3, readers = 4, push_batch = 5 };
  std::uint8_t version = protocol_version;
  kind_t kind = kind_t::create;
  std::uint64_t request_id = 0;
  std::string stream;         ///< the stream (topic) name: [A-Za-z0-9._-], 1..200 characters
  bytes data;                 ///< push: the message (an encoded transport_message, see the client)
  std::int64_t index = 0;     ///< pull: the first index wanted (>= 0)
  std::uint32_t limit = 0;    ///< pull: at most this many messages (>= 1)
  std::uint32_t wait_ms = 0;  ///< pull: how long the service may wait for a first message
  /// create, on a members-only hub: the identifiers the stream is for besides its creator (at
  /// most `max_stream_parties`). Last in the array, so requests of older clients (8 fields)
  /// decode with none, and older hubs ignore it.
  std::vector<std::string> parties;
  /// push_batch: the messages, in order, each written as one record (at most
  /// `max_push_batch`); `data` is empty. Last, after `parties`: a hub that does not know the
  /// kind answers `bad_request`, and the client then pushes one message at a time.
  std::vector<bytes> records;
  MSGPACK_DEFINE(version, kind, request_id, stream, data, index, limit, wait_ms, parties, records)
};

/// The most messages one push_batch carries.
inline constexpr std::size_t max_push_batch = 1024;

/// One message of a stream, with its index.
struct stream_message {
  std::int64_t index = 0;
  bytes data;
  MSGPACK_DEFINE(index, data)
};

/// What a hub knows of the pulls of one stream (the answer to a `readers` request): so that a
/// sender can tell "nobody reads this stream" from "not read yet". It is what this hub has seen
/// since it started (a stream nobody pulled for a minute is forgotten), and it is the hub's word
/// only: a client uses it to tell people what is happening, never to decide what is secure.
struct reader_activity {
  std::uint32_t waiting = 0;       ///< pulls of the stream the hub holds now (long polls)
  std::int64_t last_pull_ms = -1;  ///< milliseconds since the last pull arrived; -1: none
  std::int64_t read_to = -1;       ///< the highest index a pull asked for (its reader has what
                                   ///< lies below it); -1: none
  MSGPACK_DEFINE(waiting, last_pull_ms, read_to)
};

/// The reply of "stream_kafka" to any `stream_request` (but see `readers_reply`).
struct stream_reply {
  std::uint8_t version = protocol_version;
  stream_request::kind_t kind = stream_request::kind_t::create;  ///< what it answers
  std::uint64_t request_id = 0;
  std::string stream;
  stream_error error;
  std::int64_t index = -1;               ///< push: the index (offset) the message got (push_batch: the last one)
  std::vector<stream_message> messages;  ///< pull: in index order, possibly empty
  MSGPACK_DEFINE(version, kind, request_id, stream, error, index, messages)
};

/// The reply of "stream_kafka" to a `readers` request: a `stream_reply` (`index` -1, no
/// messages) with one more field at the end. So it decodes as a `stream_reply`, and a hub that
/// does not know the request answers with a `stream_reply` (`bad_request`) that decodes as a
/// `readers_reply` whose `readers` keeps its defaults. Other replies keep their seven fields.
struct readers_reply : stream_reply {
  reader_activity readers;
  MSGPACK_DEFINE(version, kind, request_id, stream, error, index, messages, readers)
};

/// A request to "stream_kafka_index".
struct index_request {
  enum class kind_t : std::uint8_t { get = 1, save = 2 };
  std::uint8_t version = protocol_version;
  kind_t kind = kind_t::get;
  std::uint64_t request_id = 0;
  std::string stream;
  std::string client_id;   ///< whose index: [A-Za-z0-9._-], 1..200 characters
  std::int64_t index = 0;  ///< save: the next index the client wants (>= 0)
  MSGPACK_DEFINE(version, kind, request_id, stream, client_id, index)
};

/// The reply of "stream_kafka_index".
struct index_reply {
  std::uint8_t version = protocol_version;
  index_request::kind_t kind = index_request::kind_t::get;
  std::uint64_t request_id = 0;
  std::string stream;
  std::string client_id;
  stream_error error;
  std::int64_t index = 0;  ///< get: the saved index, 0 when none was saved; save: what was saved
  MSGPACK_DEFINE(version, kind, request_id, stream, client_id, error, index)
};

}  // namespace nodus::stream

MSGPACK_ADD_ENUM(nodus::stream::stream_errc);
MSGPACK_ADD_ENUM(nodus::stream::stream_request::kind_t);
MSGPACK_ADD_ENUM(nodus::stream::index_request::kind_t);
