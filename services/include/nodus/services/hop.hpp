#pragma once
/// The hop: a worker that passes messages on along their onward route.

#include "nodus/node/context.hpp"
#include "nodus/node/worker.hpp"

namespace nodus::services {

/// Forwards every message to the rest of its onward route: removes itself from the front of the
/// onward route, puts its own address on the front of the return route, and sends it on, so
/// replies come back through it. Does not decode payloads. A delivery-error notice passes on
/// the same way, towards whoever waits for the reply.
class hop final : public raw_worker {
public:
  task<result<>> handle_message(context& ctx, local_message message) override;
  task<result<>> handle_delivery_error(context& ctx, local_message notice) override {
    return handle_message(ctx, std::move(notice));
  }
};

}  // namespace nodus::services
