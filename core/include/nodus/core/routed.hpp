#pragma once
/// A decoded message body together with the routes it came with.

#include <utility>

#include "nodus/core/local_message.hpp"

namespace nodus {

/// What a `worker<T>` receives: the decoded body and the message it came in (routes, metadata).
template <class T>
class routed {
public:
  routed(T body, local_message message) : body_(std::move(body)), message_(std::move(message)) {}

  /// The decoded body.
  const T& body() const& noexcept { return body_; }
  /// The decoded body, moved out.
  T&& body() && noexcept { return std::move(body_); }
  /// Where replies go.
  const route& return_route() const noexcept { return message_.return_route; }
  /// The hops ahead; the receiving worker's own address is first.
  const route& onward_route() const noexcept { return message_.onward_route; }
  /// Node-local facts about the message (for example the authenticated sender's identity).
  const local_metadata& metadata() const noexcept { return message_.metadata; }
  /// The whole message, payload included.
  const local_message& message() const& noexcept { return message_; }
  /// The whole message, moved out (for forwarding).
  local_message&& message() && noexcept { return std::move(message_); }

private:
  T body_;
  local_message message_;
};

}  // namespace nodus
