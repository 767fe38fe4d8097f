#pragma once
/// Incoming access control: which messages a worker's mailbox accepts.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nodus/core/error.hpp"
#include "nodus/core/local_message.hpp"

namespace nodus {

/// Decides, for each message arriving at a mailbox, whether the worker will see it.
/// A refused message is logged with the reason and the sender gets `errc::access_denied` (or
/// the error given to the constructor).
class incoming_access_control {
public:
  /// Returns an empty string to accept, or the reason for refusing.
  using check_fn = std::function<std::string(const local_message&)>;

  /// Accepts everything (the default).
  static incoming_access_control allow_all();
  /// Accepts messages whose immediate sender (the first hop of the return route) is listed.
  static incoming_access_control allow_from(std::vector<address> senders);
  /// Accepts messages for which `accept(message)` is true; `description` appears in denial logs.
  static incoming_access_control predicate(std::string description, std::function<bool(const local_message&)> accept);
  /// Accepts messages for which `check` returns an empty reason; the sender of a refused one
  /// gets `refusal` (e.g. `errc::too_large` for a size limit).
  explicit incoming_access_control(check_fn check, errc refusal = errc::access_denied)
      : check_(std::move(check)), refusal_(refusal) {}

  /// Empty when `m` may pass; otherwise why not.
  std::string check(const local_message& m) const { return check_ ? check_(m) : std::string(); }
  /// What the sender of a refused message gets.
  errc refusal() const noexcept { return refusal_; }

private:
  incoming_access_control() = default;
  check_fn check_;
  errc refusal_ = errc::access_denied;
};

}  // namespace nodus
