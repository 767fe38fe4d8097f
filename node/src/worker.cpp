#include "nodus/node/worker.hpp"

#include <spdlog/spdlog.h>

#include "nodus/core/delivery_error.hpp"
#include "nodus/node/context.hpp"

namespace nodus {

task<result<>> worker_base::handle_delivery_error(context& ctx, local_message notice) {
  if (ctx.log().should_log(spdlog::level::debug)) {
    auto e = decode_delivery_error(notice.payload);
    ctx.log().debug("'{}' dropped a delivery error notice: {}", ctx.address(),
                    e ? e.value().reason : std::string("(it does not decode)"));
  }
  co_return ok();
}

}  // namespace nodus
