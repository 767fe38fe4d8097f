#pragma once
// librdkafka producers and consumers for the Kafka portal tests: records with a key, a value and
// a `trace` header, produced to chosen partitions and consumed from the beginning.

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace nodus::test {

using namespace std::chrono_literals;

using handle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

inline handle client(rd_kafka_type_t type, const std::string& bootstrap,
                     std::map<std::string, std::string> extra = {}) {
  char error[512];
  auto* conf = rd_kafka_conf_new();
  extra["bootstrap.servers"] = bootstrap;
  for (const auto& [k, v] : extra)
    REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), error, sizeof error) == RD_KAFKA_CONF_OK, error);
  auto* h = rd_kafka_new(type, conf, error, sizeof error);
  REQUIRE_MESSAGE(h, error);
  return {h, &rd_kafka_destroy};
}

struct record {
  int partition;
  std::string key, value, header;
  friend bool operator==(const record&, const record&) = default;
  friend bool operator<(const record& a, const record& b) {
    return std::tie(a.partition, a.key) < std::tie(b.partition, b.key);
  }
};

inline std::vector<record> produce(const std::string& bootstrap, const std::string& topic, int count, int partitions,
                                   const std::string& codec) {
  auto p = client(RD_KAFKA_PRODUCER, bootstrap, {{"compression.codec", codec}, {"linger.ms", "5"}});
  std::vector<record> sent;
  for (int i = 0; i < count; ++i) {
    record r{i % partitions, "key-" + std::to_string(i), "value " + std::to_string(i) + std::string(i % 50, 'x'),
             "h" + std::to_string(i)};
    const auto err =
        rd_kafka_producev(p.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
                          RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_VALUE(r.value.data(), r.value.size()),
                          RD_KAFKA_V_HEADER("trace", r.header.data(), static_cast<ssize_t>(r.header.size())),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    REQUIRE_MESSAGE(err == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(err));
    sent.push_back(r);
  }
  REQUIRE(rd_kafka_flush(p.get(), 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  return sent;
}

inline std::vector<record> consume(const std::string& bootstrap, const std::string& topic, int count, int partitions,
                                   std::chrono::seconds limit = 60s) {
  auto c = client(RD_KAFKA_CONSUMER, bootstrap, {{"group.id", "portal-test"}, {"enable.auto.commit", "false"}});
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  REQUIRE(rd_kafka_assign(c.get(), list) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<record> got;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (static_cast<int>(got.size()) < count && std::chrono::steady_clock::now() < deadline) {
    auto* m = rd_kafka_consumer_poll(c.get(), 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      record r{m->partition,
               std::string(static_cast<const char*>(m->key), m->key_len),
               std::string(static_cast<const char*>(m->payload), m->len),
               {}};
      rd_kafka_headers_t* headers = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(headers, "trace", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR)
        r.header.assign(static_cast<const char*>(value), size);
      got.push_back(r);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c.get());
  return got;
}

/// Each partition's records as produced: the same records, in the same order.
inline void check_same_per_partition(const std::vector<record>& sent, const std::vector<record>& got, int partitions) {
  REQUIRE(got.size() == sent.size());
  for (int p = 0; p < partitions; ++p) {
    std::vector<record> a, b;
    for (const auto& r : sent)
      if (r.partition == p) a.push_back(r);
    for (const auto& r : got)
      if (r.partition == p) b.push_back(r);
    CHECK(a == b);  // in order, keys, values and headers as produced
  }
}

}  // namespace nodus::test
