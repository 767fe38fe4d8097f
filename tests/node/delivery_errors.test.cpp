// Delivery-error notices on one node: messages are stamped with an origin here the way a
// transport stamps what it reads from a socket, and the notices land in a context of the test.
// The runtime sends a notice before the failed send returns, so a notice (or its absence) can
// be checked right after with a receive that does not wait.

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/hop.hpp"

using namespace nodus;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const flow_origin> from_elsewhere() {
  return std::make_shared<const flow_origin>(flow_origin{"flow.peer", {}, "test flow"});
}

local_message arriving(route to, route back) {
  return local_message{std::move(to), std::move(back), message_codec<std::string>::encode("hi"), {}, from_elsewhere()};
}

task<result<>> forward_as_is(context& ctx, local_message m) { co_return co_await ctx.forward(std::move(m)); }

result<> arrive(node& n, local_message m) {
  return n.block_on([&](context& ctx) { return forward_as_is(ctx, m); });
}

task<result_or_failure<local_message>> next_at(context* at, duration timeout) {
  co_return co_await at->receive_message_or_failure(timeout);
}

task<result<local_message>> next_code_at(context* at, duration timeout) {
  co_return co_await at->receive_message(timeout);
}

// What is in `at`'s mailbox now, without waiting.
result_or_failure<local_message> now_at(node& n, context& at) {
  return n.block_on([&](context&) { return next_at(&at, 0ms); });
}

// Answers each message with how many it has handled; notices go to the default handler (dropped).
class counter final : public worker<std::string> {
public:
  task<result<>> handle_message(context& ctx, routed<std::string> m) override {
    co_return co_await ctx.send(m.return_route(), ++handled_);
  }

private:
  int handled_ = 0;
};

}  // namespace

TEST_CASE("a message from elsewhere to nobody is answered by one notice along its return route") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  auto collector = n.create_context("collector.");

  auto sent = arrive(n, arriving(route{"nosuchworker"}, route{collector.address()}));
  REQUIRE_FALSE(sent);
  CHECK(sent.error() == errc::unknown_address);  // the forwarding worker learns it as before
  auto notice = now_at(n, collector);
  REQUIRE_FALSE(notice);
  CHECK(notice.error().code == errc::unknown_address);
  CHECK(notice.error().reason == "no worker at 'nosuchworker'");
  CHECK(now_at(n, collector).error().code == errc::timeout);  // exactly one

  // receive_message gives the code alone, at once, whatever its timeout.
  REQUIRE_FALSE(arrive(n, arriving(route{"nosuchworker"}, route{collector.address()})));
  auto code = n.block_on([&](context&) { return next_code_at(&collector, 30s); });
  REQUIRE_FALSE(code);
  CHECK(code.error() == errc::unknown_address);
}

TEST_CASE("a refusal by flow control is answered with access_denied") {
  auto n = node::create({.threads = 2});
  REQUIRE(n.start_worker("private", counter{}));
  auto collector = n.create_context("collector.");
  auto sent = arrive(n, arriving(route{"private"}, route{collector.address()}));
  REQUIRE_FALSE(sent);
  CHECK(sent.error() == errc::access_denied);
  auto notice = now_at(n, collector);
  REQUIRE_FALSE(notice);
  CHECK(notice.error().code == errc::access_denied);
  CHECK(notice.error().reason == "'private' refused the message: not reachable from where it came in (flow control)");
}

TEST_CASE("no notice about a notice, about a message without a return route, or about one made here") {
  auto n = node::create({.threads = 2});
  auto collector = n.create_context("collector.");

  auto notice = arriving(route{"ghost"}, route{collector.address()});
  notice.kind = message_kind::delivery_error;
  notice.payload = encode_delivery_error({errc::unknown_address, "no worker at 'x'"});
  CHECK(arrive(n, notice).error() == errc::unknown_address);
  CHECK(now_at(n, collector).error().code == errc::timeout);

  CHECK(arrive(n, arriving(route{"ghost"}, route{})).error() == errc::unknown_address);

  auto local = arriving(route{"ghost"}, route{collector.address()});
  local.origin.reset();
  CHECK(arrive(n, local).error() == errc::unknown_address);
  CHECK(now_at(n, collector).error().code == errc::timeout);
}

TEST_CASE("a notice is never waited for: when the next mailbox is full it is dropped") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .mailbox_capacity = 1, .logger = logs.logger()});
  auto collector = n.create_context("collector.");
  REQUIRE(n.block_on([&](context& ctx) { return ctx.send(route{collector.address()}, std::string("first")); }));

  CHECK(arrive(n, arriving(route{"ghost"}, route{collector.address()})).error() == errc::unknown_address);
  CHECK(logs.eventually_contains("delivery error notice to '" + collector.address().value() +
                                 "' dropped: its mailbox is full"));
  auto first = now_at(n, collector);
  REQUIRE(first);
  CHECK(message_codec<std::string>::decode(first.value().payload).value() == "first");
  CHECK(now_at(n, collector).error().code == errc::timeout);
}

TEST_CASE("a worker does not get a notice as a message; a hop passes it on") {
  auto n = node::create({.threads = 2});
  REQUIRE(n.start_worker("counter", counter{}, {.reach = reach::any_origin}));
  REQUIRE(n.start_worker("hop", services::hop{}, {.reach = reach::any_origin}));
  auto collector = n.create_context("collector.");

  // A notice whose way back leads through the counter, and one through the hop.
  REQUIRE_FALSE(arrive(n, arriving(route{"ghost"}, route{"counter", collector.address()})));
  REQUIRE_FALSE(arrive(n, arriving(route{"ghost"}, route{"hop", collector.address()})));
  auto passed = n.block_on([&](context&) { return next_at(&collector, 30s); });
  REQUIRE_FALSE(passed);
  CHECK(passed.error().code == errc::unknown_address);
  // An ordinary message to the counter is its first: the notice before it was not handled as one.
  local_message plain{route{"counter"}, route{collector.address()}, message_codec<std::string>::encode("x"), {}};
  REQUIRE(arrive(n, plain));
  auto count = n.block_on([&](context&) { return next_at(&collector, 30s); });
  REQUIRE(count);
  CHECK(message_codec<int>::decode(count.value().payload).value() == 1);
}
