#pragma once
/// The echoer: replies to every message with the same body.

#include "nodus/node/context.hpp"
#include "nodus/node/worker.hpp"

namespace nodus::services {

/// Sends every message's payload back along its return route, unchanged and undecoded, so it
/// echoes any message type. Logs what it echoes at debug level. A delivery-error notice is
/// not echoed (it is dropped, as by any worker): echoing notices could make two nodes bounce
/// one back and forth.
class echoer final : public raw_worker {
public:
  task<result<>> handle_message(context& ctx, local_message message) override;
};

}  // namespace nodus::services
