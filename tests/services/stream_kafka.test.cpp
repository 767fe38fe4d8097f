// The hub's stream services against librdkafka's mock cluster in this process: create, push,
// pull (long polling), indexes in consumer-group offsets, errors as replies, a broker that is
// down or was never there; and the kafka.config files they read.

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <optional>

#include "eventually.hpp"
#include "log_capture.hpp"
#include "nodus/node/node.hpp"
#include "nodus/stream_kafka/services.hpp"
#include "ports.hpp"

using namespace nodus;
using namespace nodus::stream;
using namespace nodus::stream_kafka;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::shared_ptr<embedded_kafka> start_kafka(const test::log_capture& logs) {
  auto kafka = embedded_kafka::start(logs.logger());
  REQUIRE(kafka);
  return kafka.value();
}

// A hub's stream services on their own node, with a Kafka client on `bootstrap` (the embedded
// cluster's when it is given).
struct stream_hub {
  explicit stream_hub(std::shared_ptr<embedded_kafka> embedded, std::string bootstrap = {},
                      stream_service_options service = {}, std::chrono::milliseconds timeout = 5s,
                      kafka_client_options options = {})
      : kafka(std::move(embedded)) {
    options.config.bootstrap_servers = bootstrap.empty() ? kafka->bootstrap() : bootstrap;
    if (bootstrap.empty()) options.embedded = kafka;
    options.log = logs.logger();
    options.request_timeout = timeout;
    options.produce_timeout = 2 * timeout;
    auto created = kafka_client::create(options);
    REQUIRE(created);
    client = created.value();
    service.kafka = client;
    REQUIRE(n.start_worker(std::string(stream_service_address), stream_kafka_service(service)));
    REQUIRE(n.start_worker(std::string(index_service_address), stream_kafka_index_service({.kafka = client})));
  }

  stream_reply ask(const stream_request& request, duration timeout = 10s) {
    auto reply = n.send_and_receive<stream_reply>(route{std::string(stream_service_address)}, request, timeout);
    REQUIRE(reply);
    CHECK(reply.value().request_id == request.request_id);
    CHECK(reply.value().kind == request.kind);
    return reply.value();
  }
  index_reply ask(const index_request& request, duration timeout = 10s) {
    auto reply = n.send_and_receive<index_reply>(route{std::string(index_service_address)}, request, timeout);
    REQUIRE(reply);
    CHECK(reply.value().request_id == request.request_id);
    return reply.value();
  }
  stream_reply create(const std::string& stream) { return ask(request(stream_request::kind_t::create, stream)); }
  stream_reply push(const std::string& stream, const std::string& text) {
    auto r = request(stream_request::kind_t::push, stream);
    r.data.assign(text.begin(), text.end());
    return ask(r);
  }
  stream_reply push_batch(const std::string& stream, const std::vector<std::string>& texts) {
    auto r = request(stream_request::kind_t::push_batch, stream);
    for (const auto& t : texts) r.records.emplace_back(t.begin(), t.end());
    return ask(r);
  }
  stream_reply pull(const std::string& stream, std::int64_t index, std::uint32_t limit = 100,
                    std::uint32_t wait_ms = 0) {
    auto r = request(stream_request::kind_t::pull, stream);
    r.index = index;
    r.limit = limit;
    r.wait_ms = wait_ms;
    return ask(r);
  }
  // Pulls until `count` messages from `from` on have come (a pull answers with what the first
  // fetch brought, which may be less than there is), for at most `limit`.
  std::vector<stream_message> pull_all(const std::string& stream, std::int64_t from, std::size_t count,
                                       duration limit = 5s) {
    std::vector<stream_message> all;
    const auto end = clock_type::now() + limit;
    while (all.size() < count && clock_type::now() < end) {
      auto reply = pull(stream, from, 100, 500);
      REQUIRE_FALSE(reply.error);
      for (auto& m : reply.messages) {
        from = m.index + 1;
        all.push_back(std::move(m));
      }
    }
    return all;
  }
  readers_reply readers(const std::string& stream) {
    const auto r = request(stream_request::kind_t::readers, stream);
    auto reply = n.send_and_receive<readers_reply>(route{std::string(stream_service_address)}, r, 10s);
    REQUIRE(reply);
    CHECK(reply.value().request_id == r.request_id);
    CHECK(reply.value().kind == r.kind);
    return reply.value();
  }
  index_reply index(index_request::kind_t kind, const std::string& stream, const std::string& client_id,
                    std::int64_t at = 0) {
    index_request r;
    r.kind = kind;
    r.request_id = ++ids;
    r.stream = stream;
    r.client_id = client_id;
    r.index = at;
    return ask(r);
  }
  stream_request request(stream_request::kind_t kind, const std::string& stream) {
    stream_request r;
    r.kind = kind;
    r.request_id = ++ids;
    r.stream = stream;
    return r;
  }

  test::log_capture logs;
  std::shared_ptr<embedded_kafka> kafka;
  std::shared_ptr<kafka_client> client;
  node n = node::create({.name = "hub", .threads = 2, .logger = logs.logger()});
  std::atomic<std::uint64_t> ids{0};
};

std::string text(const stream_message& m) { return {m.data.begin(), m.data.end()}; }

// A loopback port nothing listens on (bound, then released).
/// Starts a pull that waits at `hub`, and returns once the hub's reader holds it waiting.
std::future<stream_reply> waiting_pull(stream_hub& hub, const std::string& stream, std::int64_t index,
                                       std::uint32_t wait_ms, std::uint32_t limit = 10) {
  auto reply = std::async(std::launch::async,
                          [&hub, stream, index, limit, wait_ms] { return hub.pull(stream, index, limit, wait_ms); });
  REQUIRE(hub.logs.eventually_contains(fmt::format("kafka reader: a pull of '{}' from {} waits", stream, index)));
  return reply;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

}  // namespace

TEST_CASE("create, push and pull: offsets increase from 0 and a pull returns the messages in order") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs));
  CHECK_FALSE(hub.create("alice_to_bob").error);
  CHECK_FALSE(hub.create("alice_to_bob").error);  // creating again is fine
  for (int i = 0; i < 5; ++i) {
    auto pushed = hub.push("alice_to_bob", "message " + std::to_string(i));
    REQUIRE_FALSE(pushed.error);
    CHECK(pushed.index == i);
    CHECK(pushed.stream == "alice_to_bob");
  }
  auto all = hub.pull_all("alice_to_bob", 0, 5);
  REQUIRE(all.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(all[i].index == i);
    CHECK(text(all[i]) == "message " + std::to_string(i));
  }

  auto some = hub.pull_all("alice_to_bob", 2, 2);  // back again: read from Kafka
  REQUIRE(some.size() >= 2);
  CHECK(some[0].index == 2);
  CHECK(text(some[1]) == "message 3");
  auto limited = hub.pull("alice_to_bob", 1, 1, 1000);
  REQUIRE(limited.messages.size() == 1);
  CHECK(limited.messages[0].index == 1);
  CHECK(hub.pull("alice_to_bob", 5).messages.empty());  // nothing yet at the end
  CHECK(hub.logs.eventually_contains("stream 'alice_to_bob' created (embedded, 1 partition)"));
}

TEST_CASE("a long poll returns as soon as a message arrives, and does not hold up pushes") {
  test::log_capture logs;
  // Pulls may wait a minute, far longer than the 10 s each request of the test waits for its
  // reply: a pull that did not return when its message came would fail the test.
  stream_service_options patient;
  patient.max_pull_wait = 60s;
  stream_hub hub(start_kafka(logs), {}, patient);
  REQUIRE_FALSE(hub.create("s").error);
  REQUIRE_FALSE(hub.push("s", "first").error);

  auto waiting = waiting_pull(hub, "s", 1, 60000);
  auto pushed = hub.push("s", "second");  // answered while the pull waits: the service is not held up
  CHECK(pushed.index == 1);
  auto reply = waiting.get();
  REQUIRE(reply.messages.size() == 1);
  CHECK(text(reply.messages[0]) == "second");

  // With nothing arriving, a pull waits its wait_ms and answers empty.
  const auto idle_start = clock_type::now();
  CHECK(hub.pull("s", 2, 10, 300).messages.empty());
  CHECK(seconds_since(idle_start) >= 0.28);
}

TEST_CASE("several pulls wait at once on different streams") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs));
  for (auto s : {"a", "b", "c"}) REQUIRE_FALSE(hub.create(s).error);
  auto pa = waiting_pull(hub, "a", 0, 4000);
  auto pb = waiting_pull(hub, "b", 0, 4000);
  auto pc = waiting_pull(hub, "c", 0, 500);
  REQUIRE_FALSE(hub.push("b", "to b").error);
  REQUIRE_FALSE(hub.push("a", "to a").error);
  CHECK(text(pa.get().messages.at(0)) == "to a");
  CHECK(text(pb.get().messages.at(0)) == "to b");
  CHECK(pc.get().messages.empty());
}

TEST_CASE("messages produced by another program reach a waiting pull") {
  test::log_capture logs;
  auto kafka = start_kafka(logs);
  stream_hub hub(kafka);
  stream_hub other(kafka);  // a second hub on the same cluster: its pushes come through Kafka
  REQUIRE_FALSE(hub.create("shared").error);
  auto waiting = waiting_pull(hub, "shared", 0, 4000);
  REQUIRE_FALSE(other.push("shared", "from elsewhere").error);
  auto reply = waiting.get();
  REQUIRE(reply.messages.size() == 1);
  CHECK(text(reply.messages[0]) == "from elsewhere");
}

TEST_CASE("errors come back as replies: unknown stream, negative index, limit 0, bad names, bad bytes") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs));
  REQUIRE_FALSE(hub.create("known").error);

  CHECK(hub.pull("never_created", 0).error.code == stream_errc::unknown_stream);
  CHECK(hub.push("never_created", "x").error.code == stream_errc::unknown_stream);
  CHECK(hub.index(index_request::kind_t::get, "never_created", "bob").error.code == stream_errc::unknown_stream);
  auto negative = hub.pull("known", -1);
  CHECK(negative.error.code == stream_errc::bad_request);
  CHECK(negative.error.reason.find("negative") != std::string::npos);
  CHECK(hub.pull("known", 0, 0).error.code == stream_errc::bad_request);
  CHECK(hub.create("no spaces").error.code == stream_errc::bad_request);
  CHECK(hub.create("__consumer_offsets").error.code == stream_errc::bad_request);
  CHECK(hub.create("").error.code == stream_errc::bad_request);
  CHECK(hub.index(index_request::kind_t::save, "known", "bob", -3).error.code == stream_errc::bad_request);
  CHECK(hub.index(index_request::kind_t::get, "known", "bad/id").error.code == stream_errc::bad_request);

  // Bytes that are no request at all; a future version; an unknown kind.
  auto junk = hub.n.send_and_receive<stream_reply>(route{"stream_kafka"}, bytes{0xc1, 0x00, 0xff}, 5s);
  REQUIRE(junk);
  CHECK(junk.value().error.code == stream_errc::bad_request);
  auto future = hub.request(stream_request::kind_t::create, "known");
  future.version = 9;
  CHECK(hub.ask(future).error.code == stream_errc::unsupported_version);
  auto odd = hub.request(static_cast<stream_request::kind_t>(42), "known");
  CHECK(hub.ask(odd).error.code == stream_errc::bad_request);
  auto index_junk = hub.n.send_and_receive<index_reply>(route{"stream_kafka_index"}, std::string("hello"), 5s);
  REQUIRE(index_junk);
  CHECK(index_junk.value().error.code == stream_errc::bad_request);

  // A push over the limit is refused before Kafka sees it.
  stream_service_options small{.max_message_size = 10};
  test::log_capture logs2;
  stream_hub strict(start_kafka(logs2), {}, small);
  REQUIRE_FALSE(strict.create("s").error);
  CHECK(strict.push("s", "this is longer than ten bytes").error.code == stream_errc::too_large);
  CHECK_FALSE(strict.push("s", "short").error);
}

TEST_CASE("indexes: 0 until saved, then the last saved value, per client and per stream") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs));
  REQUIRE_FALSE(hub.create("s1").error);
  REQUIRE_FALSE(hub.create("s2").error);
  using kind = index_request::kind_t;
  auto none = hub.index(kind::get, "s1", "bob");
  REQUIRE_FALSE(none.error);
  CHECK(none.index == 0);
  auto saved = hub.index(kind::save, "s1", "bob", 5);
  REQUIRE_FALSE(saved.error);
  CHECK(saved.index == 5);
  CHECK(hub.index(kind::get, "s1", "bob").index == 5);
  CHECK_FALSE(hub.index(kind::save, "s1", "bob", 7).error);
  CHECK(hub.index(kind::get, "s1", "bob").index == 7);
  CHECK_FALSE(hub.index(kind::save, "s1", "bob", 2).error);  // backwards is allowed (redelivery)
  CHECK(hub.index(kind::get, "s1", "bob").index == 2);
  CHECK(hub.index(kind::get, "s1", "alice").index == 0);
  CHECK(hub.index(kind::get, "s2", "bob").index == 0);

  // Many saves at once: the last one sent is the one kept.
  std::vector<std::future<index_reply>> saves;
  for (int i = 1; i <= 20; ++i)
    saves.push_back(std::async(std::launch::async, [&hub, i] { return hub.index(kind::save, "s2", "carol", i); }));
  for (auto& s : saves) CHECK_FALSE(s.get().error);
  CHECK_FALSE(hub.index(kind::save, "s2", "carol", 100).error);
  CHECK(hub.index(kind::get, "s2", "carol").index == 100);
}

TEST_CASE("streams and indexes survive a restart of the services on the same cluster") {
  test::log_capture logs;
  auto kafka = start_kafka(logs);
  {
    stream_hub first(kafka);
    REQUIRE_FALSE(first.create("durable").error);
    REQUIRE_FALSE(first.push("durable", "one").error);
    REQUIRE_FALSE(first.push("durable", "two").error);
    REQUIRE_FALSE(first.index(index_request::kind_t::save, "durable", "bob", 1).error);
  }
  stream_hub second(kafka);  // a new node and client: knows nothing but what Kafka keeps
  auto index = second.index(index_request::kind_t::get, "durable", "bob");
  REQUIRE_FALSE(index.error);
  CHECK(index.index == 1);
  auto rest = second.pull("durable", index.index, 10, 2000);
  REQUIRE(rest.messages.size() == 1);
  CHECK(text(rest.messages[0]) == "two");
  CHECK(second.push("durable", "three").index == 2);
}

TEST_CASE("with no broker at all, every request gets kafka_unavailable in bounded time") {
  test::log_capture logs;
  auto kafka = start_kafka(logs);                    // only for the fixture; the client goes elsewhere
  const auto nowhere = test::restartable_address();  // free: nothing listens there
  stream_hub hub(kafka, nowhere, {}, 1s);
  const auto start = clock_type::now();
  auto created = hub.create("s");
  CHECK(created.error.code == stream_errc::kafka_unavailable);
  CHECK(created.error.reason.find(nowhere) != std::string::npos);
  CHECK(hub.push("s", "x").error.code == stream_errc::kafka_unavailable);
  CHECK(hub.pull("s", 0).error.code == stream_errc::kafka_unavailable);
  CHECK(hub.index(index_request::kind_t::get, "s", "bob").error.code == stream_errc::kafka_unavailable);
  // Bounded: each request above waits at most 10 s for its reply (stream_hub::ask) or fails the test.
  MESSAGE("4 requests answered kafka_unavailable in " << seconds_since(start) << " s (1 s timeout)");

  std::promise<result_or_failure<std::string>> checked;
  hub.client->check_cluster([&](result_or_failure<std::string> r) { checked.set_value(std::move(r)); });
  auto check = checked.get_future().get();
  REQUIRE_FALSE(check);
  CHECK(check.error().reason.find("cannot reach kafka at " + nowhere) != std::string::npos);
}

TEST_CASE("a broker that goes down: pushes fail in bounded time, then work again when it is back") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs), {}, {}, 1s);
  REQUIRE_FALSE(hub.create("s").error);
  REQUIRE(hub.push("s", "before").index == 0);
  REQUIRE(hub.pull("s", 0, 10, 1000).messages.size() == 1);  // the stream is being read
  hub.kafka->set_broker_down();
  const auto start = clock_type::now();
  auto failed = hub.push("s", "during");
  CHECK(failed.error.code == stream_errc::kafka_unavailable);
  MESSAGE("the push failed after " << seconds_since(start) << " s (1 s request timeout; the test waits 10 s at most)");
  // A pull with nothing to return says Kafka is down rather than "nothing new".
  std::optional<stream_reply> empty;
  for (int attempt = 0; attempt < 10 && (!empty || !empty->error); ++attempt) empty = hub.pull("s", 1, 10, 300);
  CHECK(empty->error.code == stream_errc::kafka_unavailable);
  hub.kafka->set_broker_up();
  std::optional<stream_reply> after;
  for (int attempt = 0; attempt < 20 && (!after || after->error); ++attempt) after = hub.push("s", "after");
  REQUIRE_FALSE(after->error);
  auto all = hub.pull_all("s", 0, static_cast<std::size_t>(after->index) + 1);
  REQUIRE_FALSE(all.empty());
  CHECK(text(all.front()) == "before");
  CHECK(text(all.back()) == "after");
}

TEST_CASE("the test hook drops the Nth push: confirmed to the client, never in Kafka") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs), {}, {.test_drop_push = 2});
  REQUIRE_FALSE(hub.create("s").error);
  CHECK(hub.push("s", "one").index == 0);
  auto dropped = hub.push("s", "two");
  CHECK_FALSE(dropped.error);
  CHECK(hub.push("s", "three").index == 1);
  auto all = hub.pull_all("s", 0, 2);
  REQUIRE(all.size() == 2);
  CHECK(text(all[0]) == "one");
  CHECK(text(all[1]) == "three");
  CHECK(hub.pull("s", 2, 10, 200).messages.empty());
  CHECK(hub.logs.eventually_contains("test hook: push #2 to 's'"));
}

TEST_CASE("a push_batch writes its messages as records in order; the reply has the last one's offset") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs), {}, {.test_drop_push = 54});
  REQUIRE_FALSE(hub.create("s").error);
  CHECK(hub.push("s", "first").index == 0);
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i) texts.push_back("batched " + std::to_string(i));
  auto pushed = hub.push_batch("s", texts);
  REQUIRE_MESSAGE(!pushed.error, pushed.error.reason);
  CHECK(pushed.index == 50);
  CHECK(pushed.kind == stream_request::kind_t::push_batch);
  CHECK(hub.push("s", "after").index == 51);
  auto all = hub.pull_all("s", 0, 52);
  REQUIRE(all.size() == 52);
  for (int i = 0; i < 50; ++i) CHECK(text(all[i + 1]) == texts[i]);
  CHECK(text(all[51]) == "after");

  // The test hook counts each message of a batch as a push: #54 is the second one here.
  auto hooked = hub.push_batch("s", {"x0", "x1", "x2"});
  REQUIRE_FALSE(hooked.error);
  CHECK(hooked.index == 53);
  auto tail = hub.pull_all("s", 52, 2);
  REQUIRE(tail.size() == 2);
  CHECK(text(tail[0]) == "x0");
  CHECK(text(tail[1]) == "x2");
  CHECK(hub.logs.eventually_contains("test hook: push #54 to 's'"));
}

TEST_CASE("a push_batch that is empty, too long or too large is refused and writes nothing") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs), {}, {.max_message_size = 100, .max_batch_size = 250});
  REQUIRE_FALSE(hub.create("s").error);
  auto empty = hub.push_batch("s", {});
  CHECK(empty.error.code == stream_errc::bad_request);
  CHECK(empty.error.reason == "a push_batch with no messages");
  auto big = hub.push_batch("s", {"ok", std::string(101, 'x')});
  CHECK(big.error.code == stream_errc::too_large);
  CHECK(big.error.reason == "a message of 101 bytes in a push_batch (at most 100 here)");
  auto heavy = hub.push_batch("s", {std::string(100, 'a'), std::string(100, 'b'), std::string(100, 'c')});
  CHECK(heavy.error.code == stream_errc::too_large);
  CHECK(heavy.error.reason == "a push_batch of 300 bytes (at most 250 here)");
  auto many = hub.push_batch("s", std::vector<std::string>(max_push_batch + 1, "m"));
  CHECK(many.error.code == stream_errc::bad_request);
  CHECK(hub.push("s", "only").index == 0);  // nothing of the refused batches was written
}

TEST_CASE("many concurrent pushes each get their own offset") {
  test::log_capture logs;
  stream_hub hub(start_kafka(logs));
  REQUIRE_FALSE(hub.create("busy").error);
  std::vector<std::future<stream_reply>> pushes;
  for (int i = 0; i < 200; ++i)
    pushes.push_back(std::async(std::launch::async, [&hub, i] { return hub.push("busy", std::to_string(i)); }));
  std::set<std::int64_t> offsets;
  for (auto& p : pushes) {
    auto reply = p.get();
    REQUIRE_FALSE(reply.error);
    offsets.insert(reply.index);
  }
  CHECK(offsets.size() == 200);
  CHECK(*offsets.rbegin() == 199);
  std::size_t read = 0;
  while (read < 200) {
    auto batch = hub.pull("busy", static_cast<std::int64_t>(read), 64, 1000);
    REQUIRE_FALSE(batch.messages.empty());
    CHECK(batch.messages.front().index == static_cast<std::int64_t>(read));
    read += batch.messages.size();
  }
  CHECK(read == 200);
}

TEST_CASE("kafka.config files: comments, continuations, sasl.jaas.config, and unknown properties by name") {
  const auto config = kafka_config::parse(
      "# Confluent Cloud\n"
      "bootstrap.servers=broker.example:9092\n"
      "request.timeout.ms=30000\n"
      "security.protocol=SASL_PLAINTEXT\n"
      "sasl.mechanism=PLAIN\n"
      "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
      "        username=\"KEY\" \\\n"
      "        password=\"SE\\\"CRET\";\n"
      "\n"
      "! another comment\n"
      "socket.keepalive.enable : true\n",
      "kafka.config");
  REQUIRE(config);
  CHECK(config.value().bootstrap_servers == "broker.example:9092");
  const auto& p = config.value().properties;
  REQUIRE(p.size() == 6);
  CHECK(p[0].name == "request.timeout.ms");
  CHECK(p[3].name == "sasl.username");
  CHECK(p[3].value == "KEY");
  CHECK(p[4].name == "sasl.password");
  CHECK(p[4].value == "SE\"CRET");
  CHECK(p[4].origin == "kafka.config:6");
  CHECK(p[5].name == "socket.keepalive.enable");

  auto unknown = kafka_config::parse("acks=all\nclient.dns.lookup=use_all_dns_ips\n", "f.config");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().reason ==
        "f.config:2: unknown kafka property 'client.dns.lookup' (librdkafka has no such setting)");
  auto invalid = kafka_config::parse("acks=sometimes\n", "f.config");
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().reason.find("f.config:1: invalid value for kafka property 'acks'") == 0);
  auto secret = kafka_config::parse("sasl.password\n", "f.config");
  REQUIRE_FALSE(secret);
  CHECK(secret.error().reason == "f.config:1: expected key=value");
  auto kerberos = kafka_config::parse("sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required;\n");
  REQUIRE_FALSE(kerberos);
  CHECK(kerberos.error().reason.find("PlainLoginModule and ScramLoginModule") != std::string::npos);
  auto missing = kafka_config::load("/nonexistent/kafka.config");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().reason == "cannot read kafka config file /nonexistent/kafka.config");
}

TEST_CASE("kafka.config files: a Java PEM truststore is librdkafka's ssl.ca.location; JKS and PKCS12 are refused") {
  const auto pem = kafka_config::parse(
      "security.protocol=SASL_SSL\n"
      "ssl.truststore.location=/etc/ca.pem\n"
      "ssl.truststore.type=PEM\n"
      "ssl.endpoint.identification.algorithm=\n",
      "kafka.config");
  REQUIRE(pem);
  const auto& p = pem.value().properties;
  REQUIRE(p.size() == 3);
  CHECK(p[1].name == "ssl.endpoint.identification.algorithm");
  CHECK(p[1].value == "none");
  CHECK(p[2].name == "ssl.ca.location");
  CHECK(p[2].value == "/etc/ca.pem");
  CHECK(p[2].origin == "kafka.config:2");

  for (const auto* type : {"", "ssl.truststore.type=PKCS12\n"}) {
    const auto java = kafka_config::parse(
        std::string("ssl.truststore.location=/etc/truststore\nssl.truststore.password=secret\n") + type, "f.config");
    REQUIRE_FALSE(java);
    CHECK(java.error().reason.find("f.config:1: ssl.truststore.location is a") == 0);
    CHECK(java.error().reason.find("ssl.truststore.type=PEM") != std::string::npos);
    CHECK(java.error().reason.find("secret") == std::string::npos);
  }
}

TEST_CASE("a reader far behind: fetching pauses at the buffer's limit and resumes as pulls catch up") {
  test::log_capture logs;
  kafka_client_options small;
  small.read_buffer_bytes = 2000;  // about 20 of the messages below
  stream_hub hub(start_kafka(logs), {}, {}, 5s, small);
  REQUIRE_FALSE(hub.create("backlog").error);
  const std::string filler(90, 'x');
  for (int i = 0; i < 300; ++i) REQUIRE(hub.push("backlog", std::to_string(i) + filler).index == i);
  // A new hub on the same cluster reads it all from Kafka, 7 at a time, after a pause.
  stream_hub reader(hub.kafka, {}, {}, 5s, small);
  reader.logs.logger()->set_level(spdlog::level::trace);
  std::int64_t next = 0;
  const auto end = clock_type::now() + 20s;
  while (next < 300 && clock_type::now() < end) {
    auto batch = reader.pull("backlog", next, 7, 1000);
    REQUIRE_FALSE(batch.error);
    // The consumer reads ahead until the buffer is full, and pauses.
    if (next == 0) REQUIRE(reader.logs.eventually_contains("kafka reader: pause 'backlog'"));
    for (const auto& m : batch.messages) {
      REQUIRE(m.index == next);
      REQUIRE(text(m) == std::to_string(next) + filler);
      ++next;
    }
  }
  CHECK(next == 300);
  CHECK(reader.logs.eventually_contains("kafka reader: resume 'backlog'"));
}

TEST_CASE("a stream nobody pulls is dropped by the reader and read again on the next pull") {
  test::log_capture logs;
  kafka_client_options quick;
  quick.read_idle = 200ms;
  stream_hub hub(start_kafka(logs), {}, {}, 5s, quick);
  hub.logs.logger()->set_level(spdlog::level::trace);
  REQUIRE_FALSE(hub.create("s").error);
  REQUIRE_FALSE(hub.push("s", "one").error);
  CHECK(hub.pull_all("s", 0, 1).size() == 1);
  // Idle for read_idle: the consumer lets the partition go.
  REQUIRE(hub.logs.eventually_contains("kafka reader: stop reading 's'"));
  REQUIRE_FALSE(hub.push("s", "two").error);
  auto again = hub.pull_all("s", 0, 2);
  REQUIRE(again.size() == 2);
  CHECK(text(again[1]) == "two");
  auto waiting = waiting_pull(hub, "s", 2, 3000);
  REQUIRE_FALSE(hub.push("s", "three").error);
  CHECK(text(waiting.get().messages.at(0)) == "three");
}

TEST_CASE("readers: whether a stream is pulled, how long ago and how far, from memory and creating nothing") {
  test::log_capture logs;
  kafka_client_options quick;
  quick.read_idle = 300ms;
  stream_hub hub(start_kafka(logs), {}, {}, 5s, quick);
  REQUIRE_FALSE(hub.create("s").error);
  REQUIRE_FALSE(hub.push("s", "one").error);
  const auto nobody = hub.readers("s");
  CHECK_FALSE(nobody.error);
  CHECK(nobody.readers.waiting == 0);
  CHECK(nobody.readers.last_pull_ms == -1);
  CHECK(nobody.readers.read_to == -1);
  CHECK(nobody.messages.empty());
  // A stream that was never made: nobody reads it, and asking did not make it.
  CHECK(hub.readers("never_made").readers.last_pull_ms == -1);
  CHECK(hub.pull("never_made", 0).error.code == stream_errc::unknown_stream);
  CHECK(hub.readers("no spaces").error.code == stream_errc::bad_request);

  // A pull waiting at the hub is a reader, and says how far it has read.
  auto waiting = waiting_pull(hub, "s", 1, 4000);
  const auto reading = hub.readers("s");
  CHECK(reading.readers.waiting == 1);
  CHECK(reading.readers.last_pull_ms >= 0);
  CHECK(reading.readers.read_to == 1);
  REQUIRE_FALSE(hub.push("s", "two").error);
  CHECK(text(waiting.get().messages.at(0)) == "two");
  const auto after = hub.readers("s");
  CHECK(after.readers.waiting == 0);
  CHECK(after.readers.last_pull_ms >= 0);
  CHECK(after.readers.read_to == 1);

  // Nobody pulls for read_idle: the hub forgets the reader.
  CHECK(test::eventually([&] { return hub.readers("s").readers.last_pull_ms == -1; }, 10s));
}

TEST_CASE("a stream fed by this hub's own pushes stops fetching, and still sees what others write") {
  test::log_capture logs;
  auto kafka = start_kafka(logs);
  stream_hub hub(kafka);
  hub.logs.logger()->set_level(spdlog::level::trace);
  stream_hub other(kafka);
  REQUIRE_FALSE(hub.create("s").error);
  std::int64_t next = 0;
  for (int round = 0; round < 3; ++round) {
    // Ping-pong through this hub: each push answers the waiting pull from its delivery report.
    for (int i = 0; i < 10; ++i, ++next) {
      auto waiting = waiting_pull(hub, "s", next, 3000);
      REQUIRE(hub.push("s", "own " + std::to_string(next)).index == next);
      auto got = waiting.get();
      REQUIRE(got.messages.size() == 1);
      CHECK(text(got.messages[0]) == "own " + std::to_string(next));
    }
    // Another hub writes: a waiting pull gets it within a probe or two.
    auto waiting = waiting_pull(hub, "s", next, 3000);
    const auto start = clock_type::now();
    REQUIRE(other.push("s", "other " + std::to_string(next)).index == next);
    auto got = waiting.get();  // empty after 3 s had the reader not seen it
    REQUIRE(got.messages.size() == 1);
    CHECK(text(got.messages[0]) == "other " + std::to_string(next));
    MESSAGE("round " << round << ": another hub's message reached the waiting pull in " << seconds_since(start) * 1000
                     << " ms");
    ++next;
  }
  CHECK(hub.logs.eventually_contains("kafka reader: probe 's'"));
  // Interleaved: this hub's push lands after another's it has not fetched yet.
  REQUIRE(other.push("s", "other again").index == next);
  REQUIRE(hub.push("s", "own again").index == next + 1);
  auto both = hub.pull_all("s", next, 2);
  REQUIRE(both.size() == 2);
  CHECK(text(both[0]) == "other again");
  CHECK(text(both[1]) == "own again");
  // Quiet again, then a pull from the start (as after a reset index): read back from Kafka at once.
  for (int i = 0; i < 6; ++i) REQUIRE_FALSE(hub.push("s", "more").error);
  hub.pull_all("s", next + 2, 6);
  const auto start = clock_type::now();
  auto first = hub.pull("s", 0, 5, 3000);
  REQUIRE_FALSE(first.messages.empty());
  CHECK(text(first.messages[0]) == "own 0");  // had it not been read back, the pull would end empty
  MESSAGE("read back from Kafka in " << seconds_since(start) * 1000 << " ms");
}
