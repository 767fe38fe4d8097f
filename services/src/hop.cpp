#include "nodus/services/hop.hpp"

namespace nodus::services {

task<result<>> hop::handle_message(context& ctx, local_message message) {
  (void)message.onward_route.step();  // our own address, first on the route
  message.return_route.prepend(ctx.address());
  co_return co_await ctx.forward(std::move(message));
}

}  // namespace nodus::services
