// librdkafka's mock cluster, in-process: the hub's default broker and `nodus kafka-dev`.

#include <dirent.h>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h, which it needs
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>
#include <set>

#include "kafka_handles.hpp"

namespace nodus::stream_kafka {
namespace {

// librdkafka's mock brokers leave Nagle's algorithm on. With a client's delayed ACKs, a small
// response written right after another (a produce confirmation after an offset commit, say)
// waits up to 40 ms. Linux copies TCP_NODELAY from a listening socket to the connections it
// accepts, so it is set on the brokers' listening sockets, found among this process's
// descriptors by their ports. Returns how many were found.
int disable_nagle_on_listeners(const std::string& bootstrap) {
  std::set<int> ports;
  for (std::size_t at = 0; at < bootstrap.size();) {
    const auto end = std::min(bootstrap.find(',', at), bootstrap.size());
    const auto colon = bootstrap.rfind(':', end);
    if (colon != std::string::npos && colon > at) ports.insert(std::atoi(bootstrap.c_str() + colon + 1));
    at = end + 1;
  }
  int found = 0;
  DIR* fds = ::opendir("/proc/self/fd");
  if (!fds) return 0;
  while (const auto* entry = ::readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    int listening = 0;
    socklen_t size = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening) continue;
    sockaddr_storage address{};
    size = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) continue;
    int port = 0;
    if (address.ss_family == AF_INET)
      port = ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    else if (address.ss_family == AF_INET6)
      port = ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    const int on = 1;
    if (ports.contains(port) && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++found;
  }
  ::closedir(fds);
  return found;
}

}  // namespace

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
  const int tuned = disable_nagle_on_listeners(p->bootstrap);
  if (p->logs.log)
    p->logs.log->debug("embedded kafka: TCP_NODELAY on {} of {} broker listening socket(s)", tuned, brokers);
  return std::shared_ptr<embedded_kafka>(new embedded_kafka(std::move(p)));
}

embedded_kafka::embedded_kafka(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

embedded_kafka::~embedded_kafka() = default;

const std::string& embedded_kafka::bootstrap() const noexcept { return impl_->bootstrap; }

stream_error embedded_kafka::create_topic(const std::string& topic, int partitions) {
  // The mock's replication factor cannot exceed its broker count; 1 is always possible.
  const auto err = rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, 1);
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return {};
  return detail::to_stream_error(err, fmt::format("cannot create topic '{}'", topic));
}

void embedded_kafka::set_broker_down(int broker_id) { rd_kafka_mock_broker_set_down(impl_->cluster, broker_id); }

void embedded_kafka::set_broker_up(int broker_id) { rd_kafka_mock_broker_set_up(impl_->cluster, broker_id); }

}  // namespace nodus::stream_kafka
