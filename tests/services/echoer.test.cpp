#include "nodus/services/echoer.hpp"

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "nodus/node/node.hpp"

using namespace nodus;

TEST_CASE("the echoer echoes any payload unchanged, typed or raw") {
  test::log_capture logs;
  auto n = node::create({.threads = 2, .logger = logs.logger()});
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  CHECK(n.send_and_receive<std::string>(route{"echoer"}, std::string("text")).value() == "text");
  CHECK(n.send_and_receive<std::uint64_t>(route{"echoer"}, std::uint64_t{7}).value() == 7);
  const bytes raw{0, 1, 2, 0xff};
  CHECK(n.send_and_receive<bytes>(route{"echoer"}, raw).value() == raw);
}
