#include "nodus/node/extension.hpp"

#include "detail/node_impl.hpp"

namespace nodus {

boost::asio::any_io_executor io_executor(const context& ctx) { return ctx.node_->executor(); }

bool is_served(const context& ctx, const nodus::address& a) {
  return a.is_local() && ctx.node_->resolve(a) != nullptr;
}

void register_transport(const context& ctx, address::transport_type type, address handler) {
  ctx.node_->register_transport(type, std::move(handler));
}

}  // namespace nodus
