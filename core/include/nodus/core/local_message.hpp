#pragma once
/// A message as workers on one node see it.

#include <map>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/route.hpp"

namespace nodus {

/// Facts about a message that only this node knows and that never go on the wire, for example
/// which identity a secure channel authenticated. Keys are namespaced, e.g. `secure_channel.identifier`.
using local_metadata = std::map<std::string, std::string, std::less<>>;

/// A message inside a node: where it goes, how to answer, its payload and its local metadata.
struct local_message {
  route onward_route;       ///< the hops still ahead; the receiving worker's address is first
  route return_route;       ///< where replies go; each hop pushes itself on the front
  bytes payload;            ///< the encoded body
  local_metadata metadata;  ///< node-local facts; dropped when the message leaves the node
};

}  // namespace nodus
