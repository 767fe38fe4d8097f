// One failure policy: `.value()` on an error throws nodus::error (a std::system_error) carrying
// the error code, for result<T>, result<> and result_or_failure<T> alike.
#include <ostream>
#include <string>
#include <system_error>

#include <doctest/doctest.h>

#include "nodus/core/failure.hpp"
#include "nodus/core/result.hpp"

namespace {

nodus::result<int> answer(bool fail) {
  if (fail) return nodus::errc::timeout;
  return 42;
}

nodus::result<> act(bool fail) {
  if (fail) return nodus::errc::unknown_address;
  return nodus::ok();
}

nodus::result_or_failure<std::string> explained(bool fail) {
  if (fail) return nodus::fail(nodus::errc::access_denied, "vault file /x/k1: not ours");
  return std::string("fine");
}

}  // namespace

TEST_CASE("value() of a result<T> with a value returns it") { CHECK(answer(false).value() == 42); }

TEST_CASE("value() of a result<T> with an error throws nodus::error with the code") {
  try {
    (void)answer(true).value();
    FAIL("no exception");
  } catch (const nodus::error& e) {
    CHECK(e.code() == nodus::errc::timeout);
    CHECK(e.code() == nodus::condition::timeout);
    CHECK(std::string(e.what()) == nodus::make_error_code(nodus::errc::timeout).message());
  }
}

TEST_CASE("value() of a result<> with an error throws the same type") {
  CHECK_NOTHROW(act(false).value());
  CHECK_THROWS_AS(act(true).value(), nodus::error);
  try {
    act(true).value();
  } catch (const std::system_error& e) {  // nodus::error is a std::system_error
    CHECK(e.code() == nodus::errc::unknown_address);
  }
}

TEST_CASE("value() of a result_or_failure throws nodus::error with the code and the reason") {
  CHECK(explained(false).value() == "fine");
  try {
    (void)explained(true).value();
    FAIL("no exception");
  } catch (const nodus::error& e) {
    CHECK(e.code() == nodus::errc::access_denied);
    CHECK(std::string(e.what()).find("vault file /x/k1: not ours") == 0);
  }
}

TEST_CASE("a result<T> error passes into a result_or_failure and throws alike") {
  const nodus::result_or_failure<int> converted(answer(true));
  REQUIRE_FALSE(converted);
  CHECK(converted.error().code == nodus::errc::timeout);
  CHECK_THROWS_AS((void)converted.value(), nodus::error);
}

TEST_CASE("error() of a result holding a value is a programming mistake: bad_result_access") {
  CHECK_THROWS_AS((void)answer(false).error(), nodus::outcome::bad_result_access);
  CHECK_THROWS_AS((void)act(false).error(), nodus::outcome::bad_result_access);
}
