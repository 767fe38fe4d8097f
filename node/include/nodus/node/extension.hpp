#pragma once
/// What transports and services built on the runtime need beyond the context's API. Workers
/// that only exchange messages never need this header.

#include <boost/asio/any_io_executor.hpp>

#include "nodus/node/context.hpp"

namespace nodus {

/// The executor of the node's threads, for sockets and timers. Objects bound to it must be
/// destroyed before the node is (a worker releases them in `shutdown`).
boost::asio::any_io_executor io_executor(const context& ctx);

/// True when a worker, processor or context on this node currently has address `a` (a local
/// address), e.g. to learn whether a connection's worker still exists.
bool is_served(const context& ctx, const nodus::address& a);

/// Makes SIGINT and SIGTERM ask the node to stop, so `node::run` returns and the program ends
/// cleanly; the signal is logged. For programs that serve until they are told to stop.
void stop_on_signals(const context& ctx);

/// Makes every message whose next hop has transport type `type` go to the worker at `handler`
/// (which replaces that hop and passes the message on). For transports.
void register_transport(const context& ctx, address::transport_type type, address handler);

}  // namespace nodus
