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

/// Makes every message whose next hop has transport type `type` go to the worker at `handler`
/// (which replaces that hop and passes the message on). For transports.
void register_transport(const context& ctx, address::transport_type type, address handler);

}  // namespace nodus
