#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/node/main.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>

#include "detail/context_access.hpp"
#include "detail/mailbox.hpp"
#include "detail/node_impl.hpp"

namespace nodus {
namespace {

// A named coroutine (not a lambda: docs/contributing.md) that turns what escapes the body into
// an exit code, so that `.value()` on an error ends the program with one clear line.
task<result<int>> run_body(const main_body* body, const std::string* name, context& ctx) {
  try {
    co_return co_await (*body)(ctx);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name->c_str(), e.what());
  }
  co_return 1;
}

}  // namespace

int run_main(node_options options, main_body body) {
  const std::string name = options.name;
  auto n = node::create(std::move(options));
  auto code = n.block_on([&body, &name](context& ctx) { return run_body(&body, &name, ctx); });
  n.stop();
  if (!code) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), code.error().message().c_str());
    return 1;
  }
  return code.value();
}

int run_main(main_body body) { return run_main(node_options{}, std::move(body)); }

task<int> serve_until_stopped(context& ctx) {
  stop_on_signals(ctx);
  // A mailbox of our own that the stop request closes, which ends the sleep below at once.
  auto waiter = ctx.new_detached("main.serve.");
  std::weak_ptr<detail::mailbox> box = detail::context_access::box(waiter);
  detail::context_access::node(ctx)->on_stop_request([box] {
    if (auto open = box.lock()) open->close();
  });
  for (;;) {
    auto slept = co_await waiter.sleep(std::chrono::hours(24));
    if (!slept) break;
  }
  co_return 0;
}

}  // namespace nodus
