// run_main: a program's steps as one coroutine on a fresh node; its exit code; what an
// exception escaping it does; serve_until_stopped for servers.

#include <atomic>
#include <ostream>
#include <string>

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "nodus/node/main.hpp"
#include "nodus/services/echoer.hpp"

using namespace nodus;
using namespace std::chrono_literals;

namespace {

// Stops the node when it gets a message.
class stopper final : public worker<std::string> {
public:
  task<result<>> handle_message(context& ctx, routed<std::string>) override {
    ctx.stop_node();
    co_return ok();
  }
};

struct seen {
  std::string reply;
  std::atomic<bool> after_serve{false};
};

// The body of a program: start a worker, talk to it, all co_awaited in one coroutine.
task<int> echo_program(context& ctx, seen* out) {
  auto started = co_await ctx.start_worker("echoer", services::echoer{});
  if (!started) co_return 2;
  const std::string text = "hello main";
  auto reply = co_await ctx.send_and_receive<std::string>(route{"echoer"}, text, 5s);
  out->reply = reply.value().body();
  co_return 7;
}

task<int> failing_program(context& ctx) {
  const std::string text = "anyone?";
  auto reply = co_await ctx.send_and_receive<std::string>(route{"nobody"}, text, 5s);
  co_return reply.value().body().empty() ? 3 : 4;  // throws: there is no "nobody"
}

task<int> server_program(context& ctx, seen* out) {
  auto started = co_await ctx.start_worker("stopper", stopper{});
  if (!started) co_return 2;
  ctx.send_after(50ms, route{"stopper"}, std::string("stop"));
  auto code = co_await serve_until_stopped(ctx);
  out->after_serve = true;
  co_return code;
}

task<int> already_stopping(context& ctx) {
  ctx.stop_node();
  co_return co_await serve_until_stopped(ctx);
}

node_options quiet(test::log_capture& logs) { return {.name = "main-test", .threads = 2, .logger = logs.logger()}; }

}  // namespace

TEST_CASE("run_main runs the body's steps in order and returns its exit code") {
  test::log_capture logs;
  seen out;
  const int code = run_main(quiet(logs), [&out](context& ctx) { return echo_program(ctx, &out); });
  CHECK(code == 7);
  CHECK(out.reply == "hello main");
}

TEST_CASE("an error's value() escaping the body makes the exit code 1") {
  test::log_capture logs;
  CHECK(run_main(quiet(logs), failing_program) == 1);
}

TEST_CASE("serve_until_stopped serves until the node is asked to stop, then returns 0") {
  test::log_capture logs;
  seen out;
  const int code = run_main(quiet(logs), [&out](context& ctx) { return server_program(ctx, &out); });
  CHECK(code == 0);
  CHECK(out.after_serve.load());  // the body went on after serving: the stop came as a request
}

TEST_CASE("serve_until_stopped returns at once when the stop was asked for already") {
  test::log_capture logs;
  CHECK(run_main(quiet(logs), already_stopping) == 0);
}

TEST_CASE("run_main with default options") {
  CHECK(run_main([](context&) -> task<int> { co_return 5; }) == 5);
}
