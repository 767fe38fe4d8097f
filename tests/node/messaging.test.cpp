// Sending, receiving and replying between workers and contexts on one node.

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "log_capture.hpp"
#include "nodus/node/node.hpp"
#include "nodus/services/echoer.hpp"

using namespace nodus;
using namespace std::chrono_literals;

namespace {

/// A body that carries another encoded body, decoded by its msgpack adaptor: decoding it nests
/// one decode inside another on the same thread.
struct wrapped {
  std::string inner;
};

}  // namespace

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <>
  struct convert<wrapped> {
    const msgpack::object& operator()(const msgpack::object& o, wrapped& v) const {
      const auto raw = o.as<nodus::bytes>();
      auto inner = nodus::message_codec<std::string>::decode(raw);
      if (!inner) throw msgpack::type_error();
      v.inner = std::move(inner).value();
      return o;
    }
  };
  template <>
  struct pack<wrapped> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& p, const wrapped& v) const {
      p.pack(nodus::message_codec<std::string>::encode(v.inner));
      return p;
    }
  };
  }  // namespace adaptor
}
}  // namespace msgpack

namespace {

/// Answers a wrapped body with its inner string.
class unwrapper final : public worker<wrapped> {
public:
  task<result<>> handle_message(context& ctx, routed<wrapped> m) override {
    co_return co_await ctx.send(m.return_route(), m.body().inner);
  }
};

/// Replies with the body in upper case; throws on "boom" to test that the worker survives.
class shouter final : public worker<std::string> {
public:
  task<result<>> handle_message(context& ctx, routed<std::string> m) override {
    if (m.body() == "boom") throw std::runtime_error("asked to explode");
    std::string loud = m.body();
    for (auto& c : loud) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    co_return co_await ctx.send(m.return_route(), loud);
  }
};

class failing_init final : public worker<std::string> {
public:
  explicit failing_init(std::atomic<int>& handled) : handled_(&handled) {}
  task<result<>> initialize(context&) override { co_return errc::not_supported; }
  task<result<>> handle_message(context&, routed<std::string>) override {
    ++*handled_;
    co_return ok();
  }

private:
  std::atomic<int>* handled_;
};

/// Sends itself a delayed "tick" when asked to start, then reports the tick to the requester.
class ticker final : public worker<std::string> {
public:
  task<result<>> handle_message(context& ctx, routed<std::string> m) override {
    if (m.body() == "start") {
      requester_ = m.return_route();
      ctx.send_after(20ms, route{ctx.address()}, std::string("tick"));
      co_return ok();
    }
    co_return co_await ctx.send(requester_, "got " + m.body());
  }

private:
  route requester_;
};

node make_node(test::log_capture& logs) {
  return node::create({.name = "test", .threads = 2, .logger = logs.logger()});
}

}  // namespace

TEST_CASE("send_and_receive gets the echo back") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  auto reply = n.send_and_receive<std::string>(route{"echoer"}, std::string("Hello"));
  REQUIRE(reply);
  CHECK(reply.value() == "Hello");
}

TEST_CASE("a typed worker replies to the return route") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("shouter", shouter{}));
  CHECK(n.send_and_receive<std::string>(route{"shouter"}, std::string("hi")).value() == "HI");
}

TEST_CASE("a message to an unknown address is an error for the sender and a log line naming it") {
  test::log_capture logs;
  auto n = make_node(logs);
  auto sent = n.block_on([](context& ctx) { return ctx.send(route{"nobody"}, std::string("x")); });
  REQUIRE_FALSE(sent);
  CHECK(sent.error() == errc::unknown_address);
  CHECK(sent.error() == condition::not_found);
  CHECK(logs.eventually_contains("no worker at address 'nobody'"));
}

TEST_CASE("receive times out when nothing arrives") {
  test::log_capture logs;
  auto n = make_node(logs);
  auto received = n.block_on([](context& ctx) { return ctx.receive<std::string>(30ms); });
  REQUIRE_FALSE(received);
  CHECK(received.error() == errc::timeout);
}

TEST_CASE("a throwing handler is logged with the worker's address and the worker keeps serving") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("shouter", shouter{}));
  auto boom = n.send_and_receive<std::string>(route{"shouter"}, std::string("boom"), 100ms);
  CHECK(boom.error() == errc::timeout);
  CHECK(logs.eventually_contains("worker 'shouter' threw from handle_message: asked to explode"));
  CHECK(n.send_and_receive<std::string>(route{"shouter"}, std::string("still here")).value() == "STILL HERE");
}

TEST_CASE("a message that does not decode is logged and the worker keeps serving") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("shouter", shouter{}));
  auto wrong = n.block_on([](context& ctx) { return ctx.send(route{"shouter"}, std::uint64_t{42}); });
  REQUIRE(wrong);
  CHECK(n.send_and_receive<std::string>(route{"shouter"}, std::string("ok")).value() == "OK");
  CHECK(logs.eventually_contains("worker 'shouter' failed to handle a message: malformed input"));
}

TEST_CASE("a body whose decoding decodes another body inside it, again and again on the same threads") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("unwrapper", unwrapper{}));
  const std::string long_text(20000, 'x');  // larger than a decoding zone's first chunk
  for (int i = 0; i < 50; ++i) {
    const std::string text = (i % 5 == 0 ? long_text : std::string("inner ")) + std::to_string(i);
    auto answer = n.send_and_receive<std::string>(route{"unwrapper"}, wrapped{text});
    REQUIRE(answer);
    CHECK(answer.value() == text);
  }
  CHECK(message_codec<wrapped>::decode(message_codec<wrapped>::encode(wrapped{"direct"})).value().inner == "direct");
}

namespace {

/// What msgpack's own parser makes of `payload` as a T (the general decoder's answer).
template <class T>
result<T> decode_with_msgpack(byte_view payload) {
  auto handle = detail::unpack_bounded(payload);
  if (!handle) return handle.error();
  try {
    return handle.value().get().as<T>();
  } catch (const std::exception&) {
    return errc::malformed;
  }
}

template <class T>
void check_integer_decoding(const std::vector<bytes>& payloads) {
  for (const auto& p : payloads) {
    CAPTURE(printable(p));
    const auto expected = decode_with_msgpack<T>(p);
    const auto actual = message_codec<T>::decode(p);
    REQUIRE(actual.has_value() == expected.has_value());
    if (expected) CHECK(actual.value() == expected.value());
  }
}

}  // namespace

TEST_CASE("integer bodies decode as msgpack decodes them, in every encoding, at every boundary") {
  std::vector<bytes> payloads = {{},
                                 {0x00},
                                 {0x7f},
                                 {0xe0},
                                 {0xff},
                                 {0xcc},
                                 {0xcc, 0x80},
                                 {0xcc, 0xff},
                                 {0xcd, 0x01, 0x00},
                                 {0xcd, 0xff, 0xff},
                                 {0xce, 0x00, 0x01, 0x00, 0x00},
                                 {0xce, 0xff, 0xff, 0xff, 0xff},
                                 {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                 {0xcf, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00},
                                 {0xd0, 0x80},
                                 {0xd0, 0x7f},
                                 {0xd1, 0x80, 0x00},
                                 {0xd1, 0x00, 0x80},
                                 {0xd1, 0xff, 0x7f},
                                 {0xd2, 0x80, 0x00, 0x00, 0x00},
                                 {0xd2, 0x7f, 0xff, 0xff, 0xff},
                                 {0xd2, 0xff, 0xff, 0x7f, 0xff},
                                 {0xd3, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
                                 {0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                 {0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff},
                                 {0x05, 0x00},
                                 {0xcd, 0x01},
                                 {0xd3, 0x01, 0x02},
                                 {0xc0},
                                 {0xc2},
                                 {0xc3},
                                 {0xca, 0x3f, 0x80, 0x00, 0x00},
                                 {0xa1, 'x'},
                                 {0x91, 0x01},
                                 {0xc1}};
  for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 255ull, 256ull, 65535ull, 65536ull, 0xffffffffull, 0x100000000ull,
                          0x7fffffffffffffffull, 0xffffffffffffffffull})
    payloads.push_back(message_codec<std::uint64_t>::encode(v));
  for (std::int64_t v : {std::int64_t{-1}, std::int64_t{-32}, std::int64_t{-33}, std::int64_t{-128}, std::int64_t{-129},
                         std::int64_t{-32768}, std::int64_t{-32769}, std::int64_t{-2147483648LL},
                         std::int64_t{-2147483649LL}, std::numeric_limits<std::int64_t>::min()})
    payloads.push_back(message_codec<std::int64_t>::encode(v));
  check_integer_decoding<std::uint8_t>(payloads);
  check_integer_decoding<std::int8_t>(payloads);
  check_integer_decoding<std::uint16_t>(payloads);
  check_integer_decoding<std::int16_t>(payloads);
  check_integer_decoding<std::uint32_t>(payloads);
  check_integer_decoding<std::int32_t>(payloads);
  check_integer_decoding<std::uint64_t>(payloads);
  check_integer_decoding<std::int64_t>(payloads);
  check_integer_decoding<char>(payloads);
  check_integer_decoding<long long>(payloads);
}

namespace {

template <class T>
void check_integer_encoding(T v) {
  msgpack::sbuffer reference;
  msgpack::pack(reference, v);
  const auto encoded = message_codec<T>::encode(v);
  CHECK(bytes(reference.data(), reference.data() + reference.size()) == encoded);
  CHECK(message_codec<T>::decode(encoded).value() == v);
}

template <class T>
void check_integer_encodings() {
  using limits = std::numeric_limits<T>;
  for (T v : {limits::min(), limits::max(), T(0), T(1), T(127), T(limits::max() / 2), T(limits::min() / 2)})
    check_integer_encoding<T>(v);
}

}  // namespace

TEST_CASE("integer bodies encode as msgpack packs them") {
  check_integer_encodings<std::uint8_t>();
  check_integer_encodings<std::int8_t>();
  check_integer_encodings<std::uint16_t>();
  check_integer_encodings<std::int16_t>();
  check_integer_encodings<std::uint32_t>();
  check_integer_encodings<std::int32_t>();
  check_integer_encodings<std::uint64_t>();
  check_integer_encodings<std::int64_t>();
  check_integer_encodings<char>();
  for (std::int64_t v : {std::int64_t{-33}, std::int64_t{-129}, std::int64_t{-32769}, std::int64_t{-2147483649LL},
                         std::int64_t{65536}, std::int64_t{4294967296LL}})
    check_integer_encoding<std::int64_t>(v);
}

TEST_CASE("one worker answers at each of its aliases") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker(std::vector<address>{"main", "alias"}, services::echoer{}));
  CHECK(n.send_and_receive<std::string>(route{"main"}, std::string("a")).value() == "a");
  CHECK(n.send_and_receive<std::string>(route{"alias"}, std::string("b")).value() == "b");
  const auto workers = n.list_workers();
  REQUIRE(workers.size() == 1);
  CHECK(workers[0].addresses == std::vector<address>{"main", "alias"});
}

TEST_CASE("an address already taken is refused") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  auto again = n.start_worker(std::vector<address>{"other", "echoer"}, services::echoer{});
  REQUIRE_FALSE(again);
  CHECK(again.error() == errc::already_exists);
  CHECK(n.send_and_receive<std::string>(route{"other"}, std::string("x"), 50ms).error() == errc::unknown_address);
}

TEST_CASE("a failing initialize stops that worker cleanly and frees its address") {
  test::log_capture logs;
  auto n = make_node(logs);
  std::atomic<int> handled{0};
  auto started = n.start_worker("fragile", failing_init{handled});
  REQUIRE_FALSE(started);
  CHECK(started.error() == errc::worker_failed);
  CHECK(logs.eventually_contains("worker 'fragile' failed to initialize"));
  CHECK(n.block_on([](context& ctx) { return ctx.send(route{"fragile"}, std::string("x")); }).error() ==
        errc::unknown_address);
  CHECK(handled == 0);
  CHECK(n.start_worker("fragile", services::echoer{}));
}

TEST_CASE("a worker can send a delayed message to itself") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("ticker", ticker{}));
  CHECK(n.send_and_receive<std::string>(route{"ticker"}, std::string("start"), 5s).value() == "got tick");
}

TEST_CASE("blocking calls from a node thread are refused instead of deadlocking") {
  test::log_capture logs;
  auto n = make_node(logs);
  node* self = &n;
  auto inner = n.block_on([self](context&) -> task<result<std::string>> {
    co_return self->send_and_receive<std::string>(route{"x"}, std::string("y"));
  });
  REQUIRE_FALSE(inner);
  CHECK(inner.error() == errc::would_deadlock);
}

TEST_CASE("a program context sends and receives directly") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  auto direct = n.block_on([](context& ctx) -> task<result<std::string>> {
    auto sent = co_await ctx.send(route{"echoer"}, std::string("direct"));
    if (!sent) co_return sent.error();
    auto reply = co_await ctx.receive<std::string>(5s);
    if (!reply) co_return reply.error();
    CHECK(reply.value().return_route() == route{"echoer"});
    co_return std::move(reply).value().body();
  });
  CHECK(direct.value() == "direct");
}

namespace {
// Sends `payload` moved in, and returns the echo's payload.
task<result<bytes>> send_moved_bytes(context& ctx, bytes payload) {
  auto reply_to = ctx.new_detached("moved.");
  if (auto sent = co_await reply_to.send(route{"echoer"}, std::move(payload)); !sent) co_return sent.error();
  auto echo = co_await reply_to.receive_message(5s);
  if (!echo) co_return echo.error();
  co_return std::move(echo).value().payload;
}
}  // namespace

TEST_CASE("bytes sent by move arrive as they were, unencoded") {
  test::log_capture logs;
  auto n = make_node(logs);
  REQUIRE(n.start_worker("echoer", services::echoer{}));
  const bytes raw{0x00, 0xc1, 0xff, 7};  // 0xc1 is never valid msgpack: proof it is not re-encoded
  auto echoed = n.block_on([&](context& ctx) { return send_moved_bytes(ctx, raw); });
  REQUIRE(echoed);
  CHECK(echoed.value() == raw);
}
