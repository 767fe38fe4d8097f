#include "nodus/services/echoer.hpp"

#include <spdlog/spdlog.h>

namespace nodus::services {

task<result<>> echoer::handle_message(context& ctx, local_message message) {
  ctx.log().debug("echoer '{}' echoes {} bytes to '{}'", ctx.address(), message.payload.size(), message.return_route);
  local_message reply{std::move(message.return_route), route{ctx.address()}, std::move(message.payload), {}};
  co_return co_await ctx.forward(std::move(reply));
}

}  // namespace nodus::services
