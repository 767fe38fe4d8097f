#pragma once
/// Incoming access control: which messages a worker's mailbox accepts.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nodus/core/local_message.hpp"

namespace nodus {

/// Decides, for each message arriving at a mailbox, whether the worker will see it.
/// A refused message is logged with the reason and the sender gets `errc::access_denied`.
class incoming_access_control {
public:
  /// Returns an empty string to accept, or the reason for refusing.
  using check_fn = std::function<std::string(const local_message&)>;

  /// Accepts everything (the default).
  static incoming_access_control allow_all();
  /// Accepts messages whose immediate sender (the first hop of the return route) is listed.
  static incoming_access_control allow_from(std::vector<address> senders);
  /// Accepts messages for which `accept(message)` is true; `description` appears in denial logs.
  static incoming_access_control predicate(std::string description,
                                           std::function<bool(const local_message&)> accept);
  /// Accepts messages for which `check` returns an empty reason.
  explicit incoming_access_control(check_fn check) : check_(std::move(check)) {}

  /// Empty when `m` may pass; otherwise why not.
  std::string check(const local_message& m) const { return check_ ? check_(m) : std::string(); }

private:
  incoming_access_control() = default;
  check_fn check_;
};

}  // namespace nodus
