#pragma once
/// The node: owns the threads, the router and every worker; the entry point of a Nodus program.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "nodus/node/context.hpp"

namespace nodus {

/// How a node is made.
struct node_options {
  /// Shown in logs.
  std::string name = "nodus";
  /// Threads running workers; 0 means one per core.
  unsigned threads = 0;
  /// Default mailbox capacity; a full mailbox makes senders wait.
  std::size_t mailbox_capacity = 1024;
  /// How long `stop` lets workers finish the message in hand and run `shutdown`.
  duration shutdown_timeout = std::chrono::seconds(5);
  /// Where logs go; by default stderr, level from the environment variable `NODUS_LOG`
  /// (trace, debug, info, warn, error, off; info when unset).
  std::shared_ptr<spdlog::logger> logger = nullptr;
};

/// A running node. Workers, contexts and routes live inside it; the caller never sees a thread,
/// a strand or an io_context. Moving is allowed; destroying the node stops it gracefully.
class node {
public:
  /// Creates a node and starts its threads.
  static node create(node_options options = {});

  node(node&&) noexcept;
  node& operator=(node&&) noexcept;
  ~node();

  /// The name given in the options.
  const std::string& name() const noexcept;
  /// The node's logger.
  spdlog::logger& log() const noexcept;

  /// A context with its own random address, for a program to send and receive from.
  context create_context(std::string_view prefix = "app.");

  /// Runs `f(ctx)` on the node with a fresh context and blocks until it completes.
  /// `f` returns `task<result<T>>`; its result is returned. From one of the node's own threads
  /// this would deadlock and returns `errc::would_deadlock` instead.
  template <class F>
  auto block_on(F&& f) -> typename std::invoke_result_t<F&, context&>::value_type {
    using out_type = typename std::invoke_result_t<F&, context&>::value_type;
    std::optional<out_type> out;
    auto ran = run_blocking([&](context& ctx) -> task<> { out.emplace(co_await f(ctx)); });
    if (!ran) return ran.error();
    return std::move(*out);
  }

  /// Starts a worker and waits for its `initialize` (blocking form of `context::start_worker`).
  template <class W>
  result<> start_worker(address at, W&& w, worker_options options = {}) {
    return start_worker(std::vector<address>{std::move(at)}, std::forward<W>(w), std::move(options));
  }
  /// Starts a worker with aliases: every address in `addresses` reaches it.
  template <class W>
  result<> start_worker(std::vector<address> addresses, W&& w, worker_options options = {}) {
    auto ptr = std::make_shared<std::remove_cvref_t<W>>(std::forward<W>(w));
    return block_on([&](context& ctx) { return ctx.start_worker_ptr(std::move(addresses), ptr, std::move(options)); });
  }
  /// Starts a processor and waits for its `initialize`.
  template <class P>
  result<> start_processor(address at, P&& p, worker_options options = {}) {
    auto ptr = std::make_shared<std::remove_cvref_t<P>>(std::forward<P>(p));
    return block_on([&](context& ctx) { return ctx.start_processor_ptr(std::move(at), ptr, std::move(options)); });
  }
  /// Stops one worker or processor and waits for its `shutdown`.
  result<> stop_worker(address at);
  /// Every worker, processor and context registered on the node.
  std::vector<worker_info> list_workers() const;

  /// Sends `body` along `to` from a fresh address and waits for the reply (blocking).
  template <class T, class U>
  result<T> send_and_receive(route to, const U& body, duration timeout = default_timeout) {
    return block_on([&](context& ctx) -> task<result<T>> {
      auto reply = co_await ctx.send_and_receive<T>(std::move(to), body, timeout);
      if (!reply) co_return reply.error();
      co_return std::move(reply).value().body();
    });
  }

  /// Blocks until something asks the node to stop (`context::stop_node`, `request_stop`),
  /// then stops it.
  void run();
  /// Asks the node to stop without waiting; safe from any thread, including the node's own.
  void request_stop();
  /// Stops gracefully: refuses new messages, lets each worker finish the message in hand and
  /// run `shutdown` (bounded by `shutdown_timeout`), then joins the threads. Idempotent.
  void stop();

  /// For transports: messages to addresses of `type` go to the worker at `handler`.
  void register_transport(address::transport_type type, address handler);

private:
  explicit node(std::shared_ptr<detail::node_impl> impl);
  result<> run_blocking(std::function<task<>(context&)> f);

  std::shared_ptr<detail::node_impl> impl_;
};

}  // namespace nodus
