// The encrypting portal with librdkafka's own clients and a cluster (librdkafka's mock): a
// producer's inlet seals, a consumer's inlet opens, and what lies in the topic is ciphertext
// only. The keys come from a custodian kept in memory (the real one is tested in
// tests/kafka_crypto); the store turned hostile is played by a client writing to the cluster
// directly, around the portals.

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <map>
#include <mutex>

#include "eventually.hpp"
#include "hostile_broker.hpp"
#include "kafka_crypto_support.hpp"
#include "kafka_portal_fixture.hpp"
#include "nodus/kafka_crypto/envelope.hpp"
#include "nodus/stream_kafka/kafka.hpp"
#include "nodus/transports/tcp.hpp"
#include "rdkafka_clients.hpp"
#include "tcp_nodes.hpp"

using namespace nodus;
using namespace nodus::test;
using namespace std::chrono_literals;
namespace kc = nodus::kafka_crypto;

namespace {

// A key source that makes one key per topic, as a custodian would for one producer.
class memory_custodian final : public kc::key_source {
public:
  task<result_or_failure<kc::shared_key>> key_for_producing(std::string topic) override {
    std::lock_guard lock(mutex_);
    if (refuse_producers)
      co_return fail(make_error_code(kc::key_error::refused),
                     "the key custodian refused identity Itest: not an allowed producer");
    auto& k = by_topic_[topic];
    if (!k) {
      k = make_key(topic, "Iproducer");
      by_name_[k->name] = k;
    }
    co_return k;
  }
  task<result_or_failure<kc::shared_key>> key_by_name(kc::key_name name) override {
    std::lock_guard lock(mutex_);
    auto it = by_name_.find(name);
    if (it == by_name_.end())
      co_return fail(make_error_code(kc::key_error::deleted), "key " + kc::to_hex(name) + " was deleted");
    co_return it->second;
  }
  std::atomic<bool> refuse_producers{false};

private:
  std::mutex mutex_;
  std::map<std::string, kc::shared_key> by_topic_;
  std::map<kc::key_name, kc::shared_key> by_name_;
};

task<result_or_failure<kafka_portal::kafka_inlet>> make_inlet(context& ctx, address at, kafka_portal::inlet_options o) {
  co_return co_await kafka_portal::create_kafka_inlet(ctx, std::move(at), std::move(o));
}

// The cluster and Bob's outlet; on Alice's node a sealing inlet for producers and an opening one
// for consumers, sharing one custodian.
// With `tamper`, Bob's outlet reaches the cluster through a hostile broker that changes every
// Fetch answer with it.
struct encrypting_pair {
  explicit encrypting_pair(kc::undecryptable_policy policy = kc::undecryptable_policy::fail,
                           hostile_broker::tamperer tamper = {})
      : bob("127.0.0.1:0", {}, false, {"kafka"}) {
    auto started = stream_kafka::embedded_kafka::start(bob.logs.logger(), 1);
    REQUIRE_MESSAGE(started, started.error().message());
    cluster = started.value();
    if (tamper) hostile = std::make_unique<hostile_broker>(cluster->bootstrap(), std::move(tamper));
    const kafka_portal::outlet_options oo{.bootstrap_server = hostile ? hostile->address() : cluster->bootstrap()};
    auto outlet = bob.n.block_on([&](context& ctx) { return make_kafka_outlet(ctx, oo); });
    REQUIRE_MESSAGE(outlet, outlet.error().message());
    producers = start_inlet("producer-inlet", true, policy);
    consumers = start_inlet("consumer-inlet", false, policy);
  }

  std::string start_inlet(const char* at, bool seal, kc::undecryptable_policy policy) {
    kafka_portal::inlet_options io{.bind = "127.0.0.1:0", .to = route{tcp(bob.bound), "kafka"}};
    io.protection.keys = keys;
    io.protection.seal = seal;
    io.protection.open = !seal;
    io.protection.undecryptable = policy;
    const address where(at);
    auto inlet = alice.n.block_on([&](context& ctx) { return make_inlet(ctx, where, io); });
    REQUIRE_MESSAGE(inlet, inlet.error().message());
    return inlet.value().bound();
  }

  kafka_portal::record_protection_stats consumer_stats() {
    auto ctx = alice.n.create_context();
    return kafka_portal::inlet_protection_stats(ctx, "consumer-inlet");
  }

  tcp_node bob;
  tcp_node alice{{}, {}, false};
  std::shared_ptr<memory_custodian> keys = std::make_shared<memory_custodian>();
  std::shared_ptr<stream_kafka::embedded_kafka> cluster;
  std::unique_ptr<hostile_broker> hostile;  // after the cluster: stopped before it
  std::string producers, consumers;
};

// A record as it lies in the topic: every header kept.
struct raw_record {
  std::int64_t offset = 0;
  std::string key, value;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::vector<raw_record> read_directly(const std::string& bootstrap, const std::string& topic, int partition,
                                      std::size_t count) {
  auto c = client(RD_KAFKA_CONSUMER, bootstrap, {{"group.id", "direct"}, {"enable.auto.commit", "false"}});
  auto* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
  REQUIRE(rd_kafka_assign(c.get(), list) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<raw_record> got;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto* m = rd_kafka_consumer_poll(c.get(), 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      raw_record r{m->offset,
                   std::string(static_cast<const char*>(m->key), m->key_len),
                   std::string(static_cast<const char*>(m->payload), m->len),
                   {}};
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0; ++i)
          r.headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
      }
      got.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c.get());
  return got;
}

// Writes `r` to the cluster directly, around the portals, as whoever holds the topic could.
void write_directly(const std::string& bootstrap, const std::string& topic, int partition, const raw_record& r) {
  auto p = client(RD_KAFKA_PRODUCER, bootstrap);
  auto* headers = rd_kafka_headers_new(r.headers.size());
  for (const auto& [k, v] : r.headers)
    rd_kafka_header_add(headers, k.data(), -1, v.data(), static_cast<ssize_t>(v.size()));
  const auto err = rd_kafka_producev(
      p.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  REQUIRE_MESSAGE(err == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(err));
  REQUIRE(rd_kafka_flush(p.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

bool has_header(const raw_record& r, std::string_view name) {
  return std::any_of(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == name; });
}

struct print_logs_on_failure {
  encrypting_pair& k;
  ~print_logs_on_failure() {
    if (doctest::is_running_in_test) MESSAGE("alice:\n" << k.alice.logs.text() << "\nbob:\n" << k.bob.logs.text());
  }
};

}  // namespace

TEST_CASE(
    "records produced through a sealing inlet are consumed through an opening one as produced; the topic holds "
    "ciphertext") {
  encrypting_pair k;
  print_logs_on_failure logs_{k};
  for (const std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    CAPTURE(codec);
    const auto topic = "secrets-" + codec;
    REQUIRE(!k.cluster->create_topic(topic, 3));
    auto sent = produce(k.producers, topic, 90, 3, codec);
    auto got = consume(k.consumers, topic, 90, 3);
    check_same_per_partition(sent, got, 3);
    const auto stored = read_directly(k.cluster->bootstrap(), topic, 0, 30);
    REQUIRE(stored.size() == 30);
    for (const auto& r : stored) {
      CHECK(r.value.find("value ") == std::string::npos);
      CHECK(has_header(r, kc::sealed_header));
      CHECK(r.key.rfind("key-", 0) == 0);  // keys stay readable, for partitioning and compaction
    }
  }
  CHECK(k.consumer_stats().undecryptable == 0);
}

TEST_CASE("a producer whose key is refused gets the reason in its delivery report, and nothing reaches the topic") {
  encrypting_pair k;
  print_logs_on_failure logs_{k};
  REQUIRE(!k.cluster->create_topic("refused", 1));
  k.keys->refuse_producers = true;
  // enabled_events 1: delivery reports come as events on the main queue.
  auto p = client(RD_KAFKA_PRODUCER, k.producers, {{"message.timeout.ms", "20000"}, {"enabled_events", "1"}});
  std::atomic<int> delivered{-1};
  REQUIRE(rd_kafka_producev(p.get(), RD_KAFKA_V_TOPIC("refused"), RD_KAFKA_V_VALUE(const_cast<char*>("v"), 1),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  auto* queue = rd_kafka_queue_get_main(p.get());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (delivered < 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_event_t* e = rd_kafka_queue_poll(queue, 200);
    if (!e) continue;
    if (rd_kafka_event_type(e) == RD_KAFKA_EVENT_DR)
      if (const auto* m = rd_kafka_event_message_next(e)) delivered = m->err;
    rd_kafka_event_destroy(e);
  }
  rd_kafka_queue_destroy(queue);
  CHECK_MESSAGE(delivered == RD_KAFKA_RESP_ERR_INVALID_RECORD,
                std::string(rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(delivered.load()))));
  CHECK(k.alice.logs.text().find("refused identity Itest") != std::string::npos);  // logged before the answer
  std::int64_t low = -1, high = -1;
  auto direct = client(RD_KAFKA_PRODUCER, k.cluster->bootstrap());
  REQUIRE(rd_kafka_query_watermark_offsets(direct.get(), "refused", 0, &low, &high, 10000) ==
          RD_KAFKA_RESP_ERR_NO_ERROR);
  CHECK(high == 0);
}

namespace {

// A replayed record, one moved to another partition, a flipped bit and injected plaintext, as
// the consumer sees them under `policy`.
void hostile_store(kc::undecryptable_policy policy) {
  encrypting_pair k(policy);
  print_logs_on_failure logs_{k};
  REQUIRE(!k.cluster->create_topic("ledger", 2));
  // Three records through the portal to partition 0, then the store's doing, then two more.
  const auto first = produce(k.producers, "ledger", 3, 1, "none");
  auto stored = read_directly(k.cluster->bootstrap(), "ledger", 0, 3);
  REQUIRE(stored.size() == 3);
  write_directly(k.cluster->bootstrap(), "ledger", 0, stored[0]);  // replayed
  write_directly(k.cluster->bootstrap(), "ledger", 1, stored[1]);  // moved to partition 1
  auto flipped = stored[2];
  flipped.value.back() ^= 1;
  write_directly(k.cluster->bootstrap(), "ledger", 0, flipped);                                  // changed
  write_directly(k.cluster->bootstrap(), "ledger", 0, {0, "key-x", "forged in the clear", {}});  // injected
  const auto second = produce(k.producers, "ledger", 2, 1, "none");

  const bool tag = policy == kc::undecryptable_policy::tag;
  // Partition 0: the five produced; under tag also the changed and the injected, as they lie.
  // Partition 1: under tag, the moved record.
  const int expected = tag ? 8 : 5;
  auto got = consume(k.consumers, "ledger", expected, 2);
  REQUIRE(got.size() == static_cast<std::size_t>(expected));
  std::vector<std::string> zero, one;
  for (const auto& r : got) (r.partition == 0 ? zero : one).push_back(r.value);
  std::vector<std::string> want{first[0].value, first[1].value, first[2].value};
  if (tag) want.insert(want.end(), {flipped.value, "forged in the clear"});
  want.insert(want.end(), {second[0].value, second[1].value});
  CHECK(zero == want);  // each record once, in order; the replay dropped
  CHECK(one == (tag ? std::vector<std::string>{stored[1].value} : std::vector<std::string>{}));
  CHECK(eventually([&] {
    const auto s = k.consumer_stats();
    return s.replays == 1 && s.undecryptable == 3 && (tag ? s.tagged : s.skipped) == 3;
  }));
  const auto s = k.consumer_stats();
  CHECK(s.opened == 5);
  CHECK(s.replays == 1);
  CHECK(s.undecryptable == 3);
}

}  // namespace

TEST_CASE("a hostile store under skip: the replay, the moved, the changed and the injected records dropped") {
  hostile_store(kc::undecryptable_policy::skip);
}

TEST_CASE("a hostile store under tag: the replay dropped, the others delivered as they lie, with the reason") {
  hostile_store(kc::undecryptable_policy::tag);
}

TEST_CASE("a hostile broker deletes a record from a batch: the consumer gets the others and the gap is reported") {
  // Drops the middle record of every batch of three in "ledger" (the batch keeps its last offset
  // delta, as after compaction: a well-formed answer).
  auto drop_middle = [](kafka::fetch_response& answer) {
    for (auto& topic : answer.responses)
      for (auto& p : topic.partitions) {
        if (topic.topic != "ledger" || !p.records || p.records->empty()) continue;
        auto set = kafka::records::decode_record_set(*p.records);
        if (!set) continue;
        for (auto& entry : set.value().entries)
          if (auto* b = std::get_if<kafka::records::record_batch>(&entry); b && b->records.size() == 3)
            b->records.erase(b->records.begin() + 1);
        p.records = kafka::records::encode(set.value()).value();
      }
  };
  encrypting_pair k(kc::undecryptable_policy::fail, drop_middle);
  print_logs_on_failure logs_{k};
  REQUIRE(!k.cluster->create_topic("ledger", 1));
  auto p = client(RD_KAFKA_PRODUCER, k.producers, {{"linger.ms", "200"}});  // the three in one batch
  for (const std::string v : {"pay 1", "pay 2", "pay 3"})
    REQUIRE(rd_kafka_producev(p.get(), RD_KAFKA_V_TOPIC("ledger"), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  REQUIRE(rd_kafka_flush(p.get(), 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  auto got = consume(k.consumers, "ledger", 2, 1);
  REQUIRE(got.size() == 2);
  CHECK(got[0].value == "pay 1");
  CHECK(got[1].value == "pay 3");
  const auto s = k.consumer_stats();  // counted before the records were delivered
  CHECK(s.gaps == 1);
  CHECK(s.missing == 1);
  CHECK(s.opened == 2);
  CHECK(k.alice.logs.text().find("1 record(s) of producer Iproducer") != std::string::npos);
  CHECK(k.hostile->tampered() > 0);
}
