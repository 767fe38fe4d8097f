#pragma once
/// A program's `main` as one coroutine, in the spirit of Ockam's `#[ockam::node]`: the steps of
/// the program are `co_await`ed in order on one context, instead of a `block_on` per call.
///
///   nodus::task<int> program(nodus::context& ctx) {
///     co_await ctx.start_worker("echoer", nodus::services::echoer{});
///     auto reply = co_await ctx.send_and_receive<std::string>(nodus::route{"echoer"}, std::string("hi"));
///     std::printf("%s\n", reply.value().body().c_str());   // an error throws: exit code 1
///     co_return 0;
///   }
///   int main() { return nodus::run_main({.name = "my-node"}, program); }
///
/// g++ 12 (docs/contributing.md): write the body as a named coroutine function, as above, not
/// as a capturing lambda coroutine; pass it what it needs by value, through a plain lambda:
/// `run_main(options, [args](nodus::context& ctx) { return program(ctx, args); })`.

#include <functional>

#include "nodus/node/context.hpp"
#include "nodus/node/node.hpp"
#include "nodus/node/task.hpp"

namespace nodus {

/// A program's body: its steps on the node's context; returns the process's exit code.
using main_body = std::function<task<int>(context&)>;

/// Creates a node with `options`, runs `body` on it with a fresh context, then stops the node
/// gracefully and returns the code `body` returned. An exception escaping `body` (such as the
/// `nodus::error` that `.value()` throws on an error result) is printed to stderr in one line,
/// `<node name>: <what>`, and makes the code 1; so does a node that stops before `body` ends.
/// Call it from `main`, never from one of the node's threads.
int run_main(node_options options, main_body body);
/// `run_main` with the default node options.
int run_main(main_body body);

/// For servers, as the last step of their body: makes SIGINT and SIGTERM ask the node to stop
/// (`stop_on_signals`), then waits until something does (a signal, `ctx.stop_node()`,
/// `node::request_stop`) and returns 0. Workers keep serving meanwhile.
task<int> serve_until_stopped(context& ctx);

}  // namespace nodus
