#pragma once
/// A portal's way to its key custodian: a `key_source` that asks the custodian over a route
/// (through a secure channel), with a bounded wait, and keeps what it got.
///
///   auto keys = kafka_crypto::custodian_client::create(node.create_context("kafka_keys."),
///                   {.to = route{channel.address(), "kafka_custodian"}, .description = "hub"});
///   inlet_options.protection.keys = keys;
///
/// Caching: keys by name (at most `max_cached_keys`), asked again after a rekey period, so that
/// a deletion at the custodian reaches a running consumer within that time; a topic's
/// producing key until its rotation period has passed, then asked again; when the custodian
/// cannot be reached then, the key serves until its validity has passed, and then
/// `key_error::expired`. A refusal or a deletion is never papered over by the cache.
/// Concurrent asks for the same key make one request.

#include <functional>
#include <memory>

#include "nodus/core/route.hpp"
#include "nodus/kafka_crypto/custodian.hpp"
#include "nodus/kafka_crypto/keys.hpp"
#include "nodus/node/context.hpp"

namespace nodus::kafka_crypto {

struct custodian_client_options {
  /// The route to the custodian's worker (its last hop), e.g. `route{channel, "kafka_custodian"}`.
  route to;
  /// Or a resolver giving that route before each request (one that makes a secure channel, and
  /// makes it again when it has closed); when set, `to` is not used.
  std::function<task<result_or_failure<route>>(context&)> resolve;
  /// Called when a request got no answer in time: for `resolve` to make its way anew next time
  /// (a secure channel through a relay cannot tell that its far end has restarted).
  std::function<void()> unanswered;
  /// How the custodian is named in reasons, e.g. the route as the user wrote it.
  std::string description;
  /// How long one request waits for the custodian's answer.
  duration timeout = std::chrono::seconds(10);
  std::size_t max_cached_keys = 4096;
  clock_fn clock;
};

/// What a client has done so far (for tests and `node show`).
struct custodian_client_stats {
  std::uint64_t requests = 0;  ///< requests sent to the custodian
  std::uint64_t waiting = 0;   ///< asks waiting now for another ask's request
};

class custodian_client final : public key_source {
public:
  /// A client sending from `ctx` (keep a context of its own for it: `node::create_context` or
  /// `context::new_detached`).
  static std::shared_ptr<custodian_client> create(context ctx, custodian_client_options o);
  ~custodian_client() override;

  task<result_or_failure<shared_key>> key_for_producing(std::string topic) override;
  task<result_or_failure<shared_key>> key_by_name(key_name name) override;
  custodian_client_stats stats() const;

  struct state;

private:
  explicit custodian_client(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

}  // namespace nodus::kafka_crypto
