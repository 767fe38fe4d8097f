#pragma once
// A node's project (docs/enrollment.md): the node is its authority (`nodus project create`), or a
// member of it (`nodus node create --project project.json --identity NAME`), or neither.
//
// The authority: its worker at `authority`, behind `authority_listener`, a secure channel listener
// that trusts everyone and exposes nothing else (enrolling identities have no credential yet; the
// authority itself refuses what they may not ask), exposed on every TCP listener; its members and
// tickets in the node's `authority/members.json`. It presents credentials it signs for itself.
//
// A member: its credential, from the identity's vault (`credentials/NAME.json`, written by
// `nodus project enroll`), kept fresh by a refresher that reaches the authority through
// `project_authority`, a hop that opens (and reopens) a secure channel to it.
//
// Either way, every secure channel and listener of the node presents the node's credential, and
// those whose trust choice is the project's members (the default with a project) require one.

#include <memory>
#include <optional>

#include "../project_files.hpp"
#include "node_daemon.hpp"
#include "nodus/authority/authority.hpp"
#include "nodus/authority/client.hpp"

namespace nodus::cli::daemon {

struct project_state {
  project_info info;
  std::shared_ptr<authority::authority> own;             ///< this node is the authority
  std::shared_ptr<authority::credential_keeper> keeper;  ///< this node is a member
  secure_channel::credential_options credentials;        ///< present, verify, clock
  std::chrono::seconds credential_validity{0};           ///< the authority's: the bound on revocation
  std::string route_address;  ///< the authority: HOST:PORT members reach it by ("": its first TCP listener)
};

/// The hop through which a member reaches its authority.
inline constexpr const char* authority_hop_address = "project_authority";

/// Starts what node.json's `authority` or `project` asks for (nothing without either); the
/// failure says why the node cannot be what node.json says.
task<result_or_failure<>> start_project(context& ctx, std::shared_ptr<node_state> s, const json::value& config);
/// The node's project, if it has one.
std::shared_ptr<project_state> project_of(node_state& s);
/// The project's identifier, or "" without one.
std::string project_id_of(node_state& s);
/// What a secure channel end of this node presents (its project credential) and, when `trust`
/// is the project's members, requires.
secure_channel::credential_options credentials_for(node_state& s, const trust_choice& trust);

/// Starts the relay service (`forwarding_service`), again if it runs: reachable from the network
/// only where a TCP listener exposes it (node create --relay-service), or, with a project, through
/// the node's secure channel listeners, for members only, each name bound to the member that
/// registered it (docs/hub.md).
task<result<>> start_relay_service(context& ctx, std::shared_ptr<node_state> s);

/// `POST /project`: this node becomes a project's authority. `GET /project`: project.json.
task<control::reply> create_project(std::shared_ptr<node_state> s, json::value body);
json::value project_json(node_state& s);
/// `POST /project/tickets`, `GET /project/members`, `DELETE /project/members/ID`.
task<control::reply> project_item(std::shared_ptr<node_state> s, std::string method, std::string item,
                                  json::value body);

}  // namespace nodus::cli::daemon
