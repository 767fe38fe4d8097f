// librdkafka's mock cluster, in-process: the hub's default broker and `nodus kafka-dev`.

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h, which it needs

#include "kafka_handles.hpp"

namespace nodus::stream {

struct embedded_kafka::impl {
  detail::log_target logs;
  detail::handle_ptr handle;  // the mock cluster lives on this (otherwise unused) handle
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;

  ~impl() {
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
  }
};

result_or_failure<std::shared_ptr<embedded_kafka>> embedded_kafka::start(std::shared_ptr<spdlog::logger> log,
                                                                         int brokers) {
  auto p = std::make_unique<impl>();
  p->logs.log = std::move(log);
  p->logs.prefix = "embedded kafka";
  detail::conf_ptr conf(rd_kafka_conf_new());
  detail::route_logs(conf.get(), &p->logs);
  // The handle never talks to a broker; without this it warns that it has no bootstrap servers.
  if (auto set = detail::set_property(conf.get(), "log_level", "3"); !set) return set.error();
  char reason[512] = {};
  p->handle.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), reason, sizeof reason));
  if (!p->handle) return fail(std::make_error_code(std::errc::io_error), fmt::format("embedded kafka: {}", reason));
  (void)conf.release();  // rd_kafka_new owns it now
  p->cluster = rd_kafka_mock_cluster_new(p->handle.get(), brokers);
  if (!p->cluster)
    return fail(std::make_error_code(std::errc::io_error), "embedded kafka: librdkafka's mock cluster did not start");
  p->bootstrap = rd_kafka_mock_cluster_bootstraps(p->cluster);
  return std::shared_ptr<embedded_kafka>(new embedded_kafka(std::move(p)));
}

embedded_kafka::embedded_kafka(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

embedded_kafka::~embedded_kafka() = default;

const std::string& embedded_kafka::bootstrap() const noexcept {
  return impl_->bootstrap;
}

stream_error embedded_kafka::create_topic(const std::string& topic, int partitions) {
  // The mock's replication factor cannot exceed its broker count; 1 is always possible.
  const auto err = rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, 1);
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return {};
  return detail::to_stream_error(err, fmt::format("cannot create topic '{}'", topic));
}

void embedded_kafka::set_broker_down(int broker_id) {
  rd_kafka_mock_broker_set_down(impl_->cluster, broker_id);
}

void embedded_kafka::set_broker_up(int broker_id) {
  rd_kafka_mock_broker_set_up(impl_->cluster, broker_id);
}

}  // namespace nodus::stream
