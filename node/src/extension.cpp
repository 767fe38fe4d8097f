#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/node/extension.hpp"

#include <csignal>

#include <boost/asio/signal_set.hpp>

#include "detail/context_access.hpp"
#include "detail/node_impl.hpp"

namespace nodus {

using detail::context_access;

boost::asio::any_io_executor io_executor(const context& ctx) { return context_access::node(ctx)->executor(); }

bool is_served(const context& ctx, const nodus::address& a) {
  return a.is_local() && context_access::node(ctx)->resolve(a) != nullptr;
}

void stop_on_signals(const context& ctx) {
  if (!context_access::node(ctx)->claim_signals()) return;  // once per node (serve_until_stopped calls it too)
  auto signals = std::make_shared<boost::asio::signal_set>(context_access::node(ctx)->executor(), SIGINT, SIGTERM);
  signals->async_wait(
      [signals, node = std::weak_ptr(context_access::node(ctx))](boost::system::error_code ec, int signal) {
        auto alive = node.lock();
        if (ec || !alive) return;
        alive->log().info("{} received; stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
        alive->request_stop();
      });
}

void report_undeliverable(const context& ctx, const local_message& message, std::error_code code, std::string reason) {
  context_access::node(ctx)->report_undeliverable(message, code, std::move(reason));
}

void register_transport(const context& ctx, address::transport_type type, address handler) {
  context_access::node(ctx)->register_transport(type, std::move(handler));
}

}  // namespace nodus
