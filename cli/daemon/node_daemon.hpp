#pragma once
// The node process behind `nodus node create`: a node with its identity, a TCP transport, an
// echoer and the services the control API creates (TCP listeners, relays, secure channel
// listeners and channels, TCP inlets and outlets). Every service but channels and outgoing
// connections is written to node.json and started again by `nodus node start`.
//
// Who can reach what, by default:
// - TCP listeners and relays expose the node's secure channel listeners (and what --expose adds);
// - secure channel listeners expose the echoer and every TCP outlet (and what --expose adds),
//   to the peers their trust policy accepts.
// So nothing on the node but a secure channel handshake is reachable from the network unless
// a user exposes it on purpose.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../control_server.hpp"
#include "nodus/core/json.hpp"
#include "nodus/kafka_crypto/custodian.hpp"
#include "nodus/kafka_portal/kafka_portal.hpp"
#include "nodus/node/context.hpp"
#include "nodus/portal/portal.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/transit/api.hpp"
#include "nodus/transit/server.hpp"
#include "nodus/transports/tcp.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"
#include "run.hpp"

namespace nodus::cli::daemon {

/// What a secure channel end trusts, as the API and node.json spell it.
struct trust_choice {
  std::vector<std::string> authorized;  ///< identifiers; empty with `everyone` and `members` false: none chosen
  bool everyone = false;
  bool members = false;  ///< the members of the node's project (`project`), checked by their credentials
  std::string project;   ///< with `members`: the project's identifier
  secure_channel::trust_policy policy() const;
  json::value to_json() const;
  /// `project`: the node's project's identifier ("" without one). With a project and no choice
  /// given, the choice is its members, as an Ockam user expects; without one, a choice is required.
  static result_or_failure<trust_choice> from_json(const json::value& v, const std::string& project);
};

struct project_state;  // daemon/project.hpp

struct relay_entry {
  std::string name;
  std::string at;   ///< the route to the hub (its forwarding service is appended)
  std::string via;  ///< or the route to a members-only hub's secure channel listener
  address worker;   ///< the relay client's processor
  address hop;      ///< with `via`: the channel hop its registrations go through
  std::shared_ptr<relay::relay_client> client;
  std::vector<address> expose;   ///< asked for, beyond the secure channel listeners
  bool expose_listeners = true;  ///< also every secure channel listener created later
};

struct listener_entry {
  address at;
  trust_choice trust;
  std::vector<address> expose;  ///< beyond the defaults (the echoer and the outlets)
  secure_channel::listener listener;
};

struct channel_entry {
  address at;
  std::string to;
  secure_channel::channel channel;
};

struct outlet_entry {
  address at;
  std::string to;
  std::string allow;                         ///< the policy of who may open connections ("": whoever reaches it)
  std::optional<portal::tcp_outlet> outlet;  ///< always set (optional: the handle has no empty state)
};

struct inlet_entry {
  std::string from;    ///< as asked (a port 0 is kept as the port it got, for restarts)
  std::string to;      ///< the outlet's route from the far end of the channel (or from here)
  std::string via;     ///< the secure channel listener's route; empty: `to` is used as it is
  trust_choice trust;  ///< for the channel made through `via`
  address worker;
  std::optional<portal::tcp_inlet> inlet;  ///< always set once started
};

/// A Kafka outlet (kafka-outlet create): a portal outlet to the bootstrap server, and one per
/// broker the cluster names.
struct kafka_outlet_entry {
  address at;
  std::string bootstrap;
  std::string allow;                         ///< the policy of who may use it ("": whoever reaches it)
  std::optional<portal::tcp_outlet> outlet;  ///< always set
};

/// A Kafka inlet (kafka-inlet, kafka-consumer, kafka-producer create).
struct kafka_inlet_entry {
  std::string from;  ///< the bootstrap listener, as bound
  std::string to;    ///< the outlet's route from the far end of the channel (or from here)
  std::string via;   ///< the secure channel listener's route; empty: `to` is used as it is
  trust_choice trust;
  std::uint16_t first_port = 0, last_port = 0;  ///< the brokers' ports
  std::string capture;                          ///< the capture file, if any
  json::value protection;                       ///< the record protection asked for (null: none)
  address worker;
};

/// A key custodian (kafka-custodian create): its keys in the node's vault and in
/// `kafka_custodian-<address>.json` in the node's directory; reachable through every secure
/// channel listener of the node (their trust policies and its own lists decide who gets keys).
struct kafka_custodian_entry {
  address at;
  std::shared_ptr<kafka_crypto::key_custodian> custodian;
  /// Its key-encryption key as asked (`{type: "transit", url, key, token_file, ca_file?}` or
  /// `{type: "pkcs11", module, token_label, pin_file, key}`: paths, never secrets); null: none.
  json::value kek;
};

/// A transit service listener (transit create; nodus::transit): the node's transit keys in its
/// vault and in `transit-keys.json`, tokens and policies in `transit-tokens.json`.
struct transit_listener_entry {
  std::string listen;  ///< as asked
  std::optional<transit::tls_files> tls;
  std::shared_ptr<transit::server> server;
};

/// The running node's state, shared by the API's handlers. The mutex guards the lists and is
/// never held across a `co_await`.
struct node_state {
  std::string name;
  std::filesystem::path directory;
  std::chrono::system_clock::time_point started_at;
  std::string identity_name;
  std::shared_ptr<vault::vault> keys;
  std::optional<vault::identity> identity;  ///< set before the node starts
  secure_channel::channel_identity channel_identity;
  std::optional<tcp_transport> tcp;
  context* main = nullptr;  ///< the node's main context (its body's), alive while the node serves
  std::shared_ptr<control::server> api;
  std::shared_ptr<control::server> api_tcp;
  std::shared_ptr<control::server> metrics;

  std::mutex mutex;
  std::shared_ptr<project_state> project;  ///< the node's project, if any (daemon/project.hpp)
  json::value settings;                    ///< node.json but its services (name, identity, api_tcp, ...)
  bool restoring = false;                  ///< while node.json's services start again: `save` waits for the end
  /// Services of node.json that did not start again (a port taken, ...): kept in node.json, so
  /// that the next start tries them again, and shown by `node show`.
  struct unrestored {
    std::string kind;   ///< the services key, e.g. tcp_listeners
    json::value entry;  ///< as node.json had it
    std::string error;  ///< why it did not start
  };
  std::vector<unrestored> not_restored;
  std::vector<std::string> tcp_listeners;                 ///< as bound, in order of creation
  std::vector<std::vector<address>> tcp_listener_expose;  ///< per listener, beyond the defaults
  std::vector<relay_entry> relays;
  std::vector<listener_entry> listeners;
  std::vector<channel_entry> channels;
  std::vector<outlet_entry> outlets;
  std::vector<inlet_entry> inlets;
  std::vector<kafka_outlet_entry> kafka_outlets;
  std::vector<kafka_inlet_entry> kafka_inlets;
  std::vector<kafka_custodian_entry> kafka_custodians;
  std::vector<transit_listener_entry> transit_listeners;
  /// The transit service's keys, tokens and API, opened on first use (services_transit.cpp).
  std::shared_ptr<const transit::service> transit_api;

  /// node.json: the node's name, identity and services (from the lists above).
  json::value config() const;  // call with the mutex held
  /// Writes node.json; logs a failure (the service runs, but would not be restored).
  void save();  // call with the mutex held
  /// What `node show` prints.
  json::value describe();
};

/// The metrics endpoint's handler (daemon/observability.cpp): /metrics, /, /status.json.
task<control::reply> handle_observability(std::shared_ptr<node_state> state, control::request req);

/// The API's handler (daemon/api_routes.cpp).
task<control::reply> handle(std::shared_ptr<node_state> state, control::request req);

// The services (daemon/services_*.cpp). Each returns what the API answers, and persists.
task<control::reply> create_tcp_listener(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_tcp_listener(std::shared_ptr<node_state> s, std::string bound);
task<control::reply> create_tcp_connection(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_tcp_connection(std::shared_ptr<node_state> s, std::string which);
task<control::reply> create_relay(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_relay(std::shared_ptr<node_state> s, std::string name);
task<control::reply> create_listener(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_listener(std::shared_ptr<node_state> s, std::string at);
task<control::reply> create_channel(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_channel(std::shared_ptr<node_state> s, std::string at);
task<control::reply> create_outlet(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_outlet(std::shared_ptr<node_state> s, std::string at);
task<control::reply> create_inlet(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_inlet(std::shared_ptr<node_state> s, std::string from);
task<control::reply> create_kafka_outlet(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_kafka_outlet(std::shared_ptr<node_state> s, std::string at);
task<control::reply> create_kafka_inlet(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_kafka_inlet(std::shared_ptr<node_state> s, std::string from);
/// How an inlet reaches its outlet, from a create request's `to`, `via` and trust choice: `to`
/// as it is, or (with `via`) a resolver that makes a secure channel to the listener at `via`.
struct inlet_way {
  route to;
  std::function<task<result_or_failure<route>>(context&)> resolve;
  std::function<void()> forget;  ///< with `resolve`: drops the channel, so the next resolve makes a new one
  trust_choice trust;
};
result_or_failure<inlet_way> inlet_way_of(std::shared_ptr<node_state> s, const json::value& body, const route& to);
/// The way an inlet's connections reach the outlet `outlet` at the far end of a secure channel
/// to the listener at `via` (one channel, made again when it closes): for `inlet_options::resolve`.
std::function<task<result_or_failure<route>>(context&)> channel_resolver(std::shared_ptr<node_state> s, route via,
                                                                         address outlet, const trust_choice& trust);
/// The same, with a way to drop the channel (when its far end stopped answering).
struct channel_way {
  std::function<task<result_or_failure<route>>(context&)> resolve;
  std::function<void()> forget;
};
channel_way channel_resolver_with_reset(std::shared_ptr<node_state> s, route via, address outlet,
                                        const trust_choice& trust);
/// A Kafka inlet's record protection from its create request's `protection` object
/// (services_kafka_protection.cpp), and that object as node.json keeps it.
struct protection_setup {
  kafka_crypto::protection_options options;
  json::value saved;
};
task<result_or_failure<protection_setup>> protection_of(std::shared_ptr<node_state> s, json::value protection);
task<control::reply> create_kafka_custodian(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_kafka_custodian(std::shared_ptr<node_state> s, std::string at);
/// `ADDR/allow`, `ADDR/revoke` (POST), `ADDR/keys` (GET), `ADDR/keys/NAME` (DELETE).
task<control::reply> kafka_custodian_item(std::shared_ptr<node_state> s, std::string method, std::string item,
                                          json::value body);
/// The custodian at `at` on this node, or null.
std::shared_ptr<kafka_crypto::key_custodian> local_custodian(node_state& s, const address& at);
json::value kafka_custodians_json(node_state& s);
/// The entry node.json keeps for a custodian (its lists as they are now).
json::value kafka_custodian_config(const kafka_custodian_entry& c);
task<control::reply> send_message(std::shared_ptr<node_state> s, json::value body);
task<control::reply> create_transit_listener(std::shared_ptr<node_state> s, json::value body);
task<control::reply> delete_transit_listener(std::shared_ptr<node_state> s, std::string where);
json::value transit_listeners_json(node_state& s);
/// The entry node.json keeps for a transit listener.
json::value transit_listener_config(const transit_listener_entry& l);
/// GET and POST on /transit-policies, DELETE on /transit-policies/NAME.
task<control::reply> transit_policies(std::shared_ptr<node_state> s, std::string method, std::string item,
                                      json::value body);
/// GET and POST on /transit-tokens, DELETE on /transit-tokens/ACCESSOR.
task<control::reply> transit_tokens(std::shared_ptr<node_state> s, std::string method, std::string item,
                                    json::value body);

/// Starts again every service node.json lists (at `node start`); each failure is logged and
/// the rest still start.
task<void> restore_services(std::shared_ptr<node_state> s, json::value services);

json::value listeners_json(node_state& s);
json::value relays_json(node_state& s);
json::value channels_json(node_state& s);
json::value outlets_json(node_state& s);
json::value inlets_json(node_state& s);
json::value kafka_outlets_json(node_state& s);
json::value kafka_inlets_json(node_state& s);
json::value tcp_listeners_json(node_state& s);
json::value tcp_connections_json(node_state& s);

}  // namespace nodus::cli::daemon
