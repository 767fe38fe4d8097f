#pragma once
/// The extension API: what transports and services built on the runtime need beyond the
/// context's API (the node's executor, the address table, transport registration). Programs
/// and workers that only exchange messages never need this header; it is the only public
/// header besides nodus/node/task.hpp that brings in Asio.

#include <boost/asio/any_io_executor.hpp>

#include "nodus/node/context.hpp"

namespace nodus {

/// The executor of the node's threads, for sockets and timers. Objects bound to it must be
/// destroyed before the node is (a worker releases them in `shutdown`).
boost::asio::any_io_executor io_executor(const context& ctx);

/// True when a worker, processor or context on this node currently has address `a` (a local
/// address), e.g. to learn whether a connection's worker still exists.
bool is_served(const context& ctx, const nodus::address& a);

// stop_on_signals, once here, is declared in nodus/node/context.hpp: ordinary programs use it.

/// For workers that pass messages on (transports, relays) and cannot pass `message` on: tells
/// its sender at once, with a delivery-error notice back along its return route (code and a
/// short printable reason; quote what a peer sent with `printable_cut`), instead of letting it
/// wait out a timeout. Only when `should_report(message, code)`: a message from another node
/// that is not itself a notice and has a return route (nodus/core/delivery_error.hpp). Never
/// waits. The runtime itself reports what it cannot deliver (no worker, a refusal).
void report_undeliverable(const context& ctx, const local_message& message, std::error_code code, std::string reason);

/// Makes every message whose next hop has transport type `type` go to the worker at `handler`
/// (which replaces that hop and passes the message on). For transports.
void register_transport(const context& ctx, address::transport_type type, address handler);

}  // namespace nodus
