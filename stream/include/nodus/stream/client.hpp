#pragma once
/// The stream client: a bidirectional, at-least-once message path through a hub's Kafka-backed
/// stream services, for peers that cannot reach each other directly (Alice and Bob).
///
/// The Rust guide's                              is here
///
///   Stream::new(&ctx)?                            stream::client_options opts{
///     .stream_service("stream_kafka")               .stream_service = "stream_kafka",
///     .index_service("stream_kafka_index")          .index_service = "stream_kafka_index",
///     .client_id(Unique::with_prefix("bob"))        .client_id = stream::unique_name("bob")};
///     .connect(route![node_in_hub],               auto stream = co_await stream::connect_stream(
///              sender_name, receiver_name)            ctx, route{tcp("hub:4000")}, sender_name, receiver_name, opts);
///     .await?;                                    // stream.value().sender(), stream.value().receiver()
///
/// Bob connects with (sender "bob-to-alice", receiver "alice-to-bob"); Alice with the same two
/// names swapped, so each one's sender stream is the other's receiver stream. Then Alice sends
/// to `route{stream.sender(), "listener"}` and the message reaches Bob's "listener" with Bob's
/// sender first on its return route, so replies travel back through Kafka.
///
/// What connect_stream starts on this node:
/// - the SENDER, a local worker (a processor reading its mailbox) at `sender()`: whatever
///   reaches it is pushed onto the sender stream as an encoded `transport_message` carrying the
///   message's remaining onward route (the hops after the sender), its return route and its
///   payload. One push is in flight at a time, each retried with exponential back-off until the
///   hub confirms it, so the stream keeps the order messages reached the sender in, and survives
///   hub restarts and Kafka outages (the TCP transport dials again on the next send). A push
///   carries all that waited in the mailbox when it left (a push_batch of up to 256 messages or
///   256 KiB, and at most `buffer_capacity`), so the stream moves as many messages per
///   confirmation as arrived meanwhile; an older hub that takes no batches gets one at a time.
///   The buffer is the sender's mailbox (`buffer_capacity`) and the push in flight: when the
///   mailbox is full, whoever sends to the sender waits (back-pressure, as with any full
///   mailbox); nothing is refused or dropped while the hub is away. A message the hub refuses for good (too large,
///   malformed) is dropped with an error log and counted in `rejected`.
/// - the RECEIVER, a processor at `receiver()`: starting from the index saved for
///   (receiver stream, client_id), it long-polls the receiver stream (`poll_wait`, so an idle
///   client costs about one request per `poll_wait` and no CPU in between), delivers each message
///   locally in index order with the paired sender prepended to its return route, and then saves
///   the next index (once per batch, after delivery). After a failed pull it reads the saved
///   index again before pulling (the index service is the authority): normally that is its own
///   index, unchanged; a hub whose broker lost everything (the embedded one, restarted) makes it
///   start again from 0, and an index moved backwards at the hub makes it redeliver from there.
///
/// Guarantees: at least once on both legs. A push whose confirmation was lost is pushed again,
/// so the stream may hold a message twice, always right after itself (order is kept); a
/// receiver that stops after delivering a batch and before saving its index delivers that
/// batch again when it restarts. A secure channel through the stream drops those duplicates
/// (its replay window), so the application behind it sees every message once, in order.
/// Not covered: messages still in the sender's mailbox when its node dies.
///
/// Start the local workers the stream delivers to (a secure channel listener, an echoer) before
/// connecting: a message whose first hop does not exist when it arrives is logged, counted in
/// `undeliverable`, and skipped.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodus/core/address.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/route.hpp"
#include "nodus/node/context.hpp"

namespace nodus::stream {

/// How a stream client talks to the hub. Every field has a default; set `client_id` to resume
/// from a saved index across restarts.
struct client_options {
  /// The hub's stream service (create, push, pull).
  std::string stream_service = "stream_kafka";
  /// The hub's index service (where the receiver's index is kept).
  std::string index_service = "stream_kafka_index";
  /// Whose index the receiver reads and saves ([A-Za-z0-9._-], 1..200 characters). The same id
  /// resumes where a previous run stopped; empty means a fresh random one (`unique_name("client")`).
  std::string client_id;
  /// How long a pull may wait at the hub for a first message (long poll). 0 makes short polls,
  /// at most ten a second; empty answers are never followed by a new pull within 100 ms.
  duration poll_wait = std::chrono::seconds(2);
  /// At most this many messages per pull.
  std::uint32_t pull_limit = 100;
  /// The sender's mailbox capacity: messages waiting to be pushed (besides the push in flight,
  /// which carries at most as many). Senders wait when it is full.
  std::size_t buffer_capacity = 1024;
  /// How long to wait for the hub's answer to a request (for a pull: beyond `poll_wait`).
  duration reply_timeout = std::chrono::seconds(5);
  /// Waits between failed attempts: doubles from `retry_backoff` up to `max_retry_backoff`.
  duration retry_backoff = std::chrono::milliseconds(100);
  duration max_retry_backoff = std::chrono::seconds(5);
  /// How long `connect_stream` keeps trying to create the streams and read the saved index.
  duration connect_timeout = std::chrono::seconds(10);
  /// On a members-only hub (docs/hub.md): the identifiers the streams this client creates are
  /// for, besides its own identity (the secure channel `to_hub` goes through), e.g. Bob's
  /// `{alice_id}`: only they and the creator may push, pull or keep an index there. At most
  /// `max_stream_parties`. An open hub ignores them.
  std::vector<std::string> parties;
  /// The local workers that messages arriving through the stream may reach, e.g. Bob's secure
  /// channel listener. Nothing else is reachable from the stream (replies to what this node
  /// sent through it excepted): whoever can push to the receiver stream is a stranger.
  std::vector<address> expose;
};

/// Where a stream client stands, as `connected_stream::status` reports it.
struct stream_status {
  /// `connected` while the last request of that side succeeded; `retrying` while it fails.
  enum class state { connected, retrying, stopped };
  state sender = state::connected;
  state receiver = state::connected;
  std::string last_error;             ///< the latest failure of either side (kept after recovery)
  std::uint64_t pushed = 0;           ///< messages the sender took from its mailbox (each once)
  std::uint64_t confirmed = 0;        ///< of those, confirmed by the hub
  std::uint64_t rejected = 0;         ///< of those, refused for good by the hub (dropped, logged)
  std::int64_t confirmed_index = -1;  ///< the index the hub gave the latest confirmed push; -1: none
  std::uint64_t retries = 0;          ///< failed requests (push, pull, index) that were tried again
  std::uint64_t pulls = 0;            ///< pull requests sent
  std::uint64_t delivered = 0;        ///< messages the receiver delivered locally
  std::uint64_t undeliverable = 0;    ///< messages it could not decode or deliver (skipped, logged)
  std::int64_t index = 0;             ///< the receiver's next index
  std::int64_t saved_index = 0;       ///< the last index the index service confirmed

  /// True when both sides are connected.
  bool connected() const noexcept { return sender == state::connected && receiver == state::connected; }
};

/// What the hub says of who reads a stream (`ask_readers`): what it has seen of the stream's
/// pulls since it started, forgetting a stream nobody pulled for a minute. The hub's word only,
/// for telling people what is going on ("nobody reads the stream Alice writes to"): a hub may
/// lie, so nothing that matters for security may depend on it.
struct stream_readers {
  /// Pulls of the stream that the hub holds now (a reader waiting for the next message).
  std::uint32_t waiting = 0;
  /// How long ago the last pull of the stream arrived; empty when none did (see above).
  std::optional<duration> since_last_pull;
  /// The highest index a pull asked for: a reader has taken everything below it. -1: none.
  std::int64_t read_to = -1;

  /// True when someone pulls the stream now, or did within `recent`.
  bool active(duration recent) const noexcept { return waiting > 0 || (since_last_pull && *since_last_pull <= recent); }
  /// True when a reader has taken the message at `index` (e.g. `stream_status::confirmed_index`).
  bool has_read(std::int64_t index) const noexcept { return index >= 0 && read_to > index; }
};

namespace detail {
struct client_state;
}  // namespace detail

/// A connected stream client: the addresses of its sender and receiver, and its status.
/// Copies share the same client.
class connected_stream {
public:
  explicit connected_stream(std::shared_ptr<detail::client_state> state) : state_(std::move(state)) {}

  /// Send here to reach the other side: `route{s.sender(), "listener"}`.
  const address& sender() const noexcept;
  /// The processor that pulls the receiver stream (nothing needs to send to it).
  const address& receiver() const noexcept;
  /// The stream this client pushes to (the other side's receiver stream).
  const std::string& sender_name() const noexcept;
  /// The stream this client pulls from (the other side's sender stream).
  const std::string& receiver_name() const noexcept;
  /// The id under which the receiver's index is saved.
  const std::string& client_id() const noexcept;
  /// The flow that messages arriving through the stream come in by (to expose more workers
  /// with `context::expose`).
  const std::string& flow() const noexcept;
  /// Counters and states; safe from any thread.
  stream_status status() const;

private:
  friend task<result_or_failure<stream_readers>> ask_readers(context& ctx, connected_stream stream);
  std::shared_ptr<detail::client_state> state_;
};

/// Creates the sender and receiver streams on the hub at `to_hub` (an empty route means this
/// node), reads the receiver's saved index, and starts the sender and the receiver. Retries
/// with back-off for up to `connect_timeout`; fails with a reason naming the stream and the
/// hub's error (`condition::invalid_argument` for bad names, `timeout` when the hub never
/// answered, `not_found` when nothing serves the route, `errc::access_denied` at once when a
/// members-only hub refuses: `forbidden: stream 'bob-to-alice' belongs to I…, and is not for I…`).
/// Through a members-only hub, `to_hub` is a secure channel to it: `route{channel.address()}`.
task<result_or_failure<connected_stream>> connect_stream(context& ctx, route to_hub, std::string sender_name,
                                                         std::string receiver_name, client_options options = {});

/// Stops the client's sender and receiver (messages still waiting in the sender's mailbox are
/// dropped and counted in a log line). The streams and the saved index stay on the hub, so
/// connecting again with the same names and `client_id` resumes.
task<result<>> disconnect_stream(context& ctx, connected_stream stream);

/// Asks the hub who reads the stream this client pushes to (`sender_name()`: the other side's
/// receiver stream), e.g. to say "nobody reads it" when a name was mistyped or the other side is
/// not running. One request, answered from the hub's memory, waiting up to `reply_timeout` (or
/// until the processor of `ctx` is stopped: `errc::stopped`).
/// Fails with `not_supported` when the hub does not know the request (an older hub), and as a
/// push would when the hub cannot be reached. What the hub answers is checked (nothing it says
/// can make a value out of range), but it is only the hub's word: see `stream_readers`.
task<result_or_failure<stream_readers>> ask_readers(context& ctx, connected_stream stream);

/// A fresh name `prefix_` followed by 32 hex digits from a CSPRNG, like Rust's `Unique::with_prefix`.
std::string unique_name(std::string_view prefix);

}  // namespace nodus::stream
