// Incoming access control on mailboxes.

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"

using namespace nodus;
using namespace std::chrono_literals;

TEST_CASE("allow_from accepts listed senders and denies others with a logged reason") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  auto friend_ctx = n.create_context("friend.");
  auto stranger = n.create_context("stranger.");
  REQUIRE(n.start_worker("guarded", services::echoer{},
                         {.access = incoming_access_control::allow_from({friend_ctx.address()})}));

  auto from_friend = n.block_on([&](context&) -> task<result<std::string>> {
    if (auto sent = co_await friend_ctx.send(route{"guarded"}, std::string("hi")); !sent) co_return sent.error();
    auto reply = co_await friend_ctx.receive<std::string>(5s);
    if (!reply) co_return reply.error();
    co_return std::move(reply).value().body();
  });
  CHECK(from_friend.value() == "hi");

  auto from_stranger = n.block_on([&](context&) { return stranger.send(route{"guarded"}, std::string("hi")); });
  REQUIRE_FALSE(from_stranger);
  CHECK(from_stranger.error() == errc::access_denied);
  CHECK(from_stranger.error() == condition::denied);
  CHECK(logs.eventually_contains(
      fmt::format("'guarded' denied a message from '{}': sender is not on the allow list", stranger.address())));
}

TEST_CASE("a predicate over local metadata decides, and its description appears in the denial") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  auto only_trusted = incoming_access_control::predicate("metadata trusted=yes", [](const local_message& m) {
    auto it = m.metadata.find("trusted");
    return it != m.metadata.end() && it->second == "yes";
  });
  REQUIRE(n.start_worker("vault", services::echoer{}, {.access = only_trusted}));

  auto send_with = [&](local_metadata metadata) {
    return n.block_on([&](context& ctx) -> task<result<std::string>> {
      local_message m{route{"vault"}, route{ctx.address()}, message_codec<std::string>::encode("x"), metadata};
      if (auto sent = co_await ctx.forward(std::move(m)); !sent) co_return sent.error();
      auto reply = co_await ctx.receive<std::string>(5s);
      if (!reply) co_return reply.error();
      co_return std::move(reply).value().body();
    });
  };
  CHECK(send_with({{"trusted", "yes"}}).value() == "x");
  CHECK(send_with({{"trusted", "no"}}).error() == errc::access_denied);
  CHECK(send_with({}).error() == errc::access_denied);
  CHECK(logs.eventually_contains("'vault' denied a message from"));
  CHECK(logs.eventually_contains("refused by 'metadata trusted=yes'"));
}
