#pragma once
// A hostile broker for the encryption tests: a TCP proxy in front of a one-broker cluster that
// tells clients the broker is at the proxy (Metadata, FindCoordinator) and hands each Fetch
// answer to `tamper` before passing it on, as whoever runs the broker or the hub could. Blocking
// sockets, two threads per connection; loopback only; stopped (every socket closed, every
// thread joined) by its destructor.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nodus/kafka/frame.hpp"
#include "request_tracker.hpp"
#include "response_rewrite.hpp"

namespace nodus::test {

class hostile_broker {
public:
  /// Changes a decoded Fetch answer in place.
  using tamperer = std::function<void(kafka::fetch_response&)>;

  hostile_broker(std::string broker, tamperer tamper) : broker_(std::move(broker)), tamper_(std::move(tamper)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accepter_ = std::thread([this] { accept_loop(); });
  }
  ~hostile_broker() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    accepter_.join();
    std::lock_guard lock(mutex_);
    for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int fd : sockets_) ::close(fd);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int tampered() const { return tampered_; }

private:
  static bool read_exact(int fd, std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const auto got = ::recv(fd, p, n, 0);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }
  static bool write_all(int fd, const bytes& b) {
    std::size_t at = 0;
    while (at < b.size()) {
      const auto put = ::send(fd, b.data() + at, b.size() - at, MSG_NOSIGNAL);
      if (put <= 0) return false;
      at += static_cast<std::size_t>(put);
    }
    return true;
  }
  static bool read_frame(int fd, bytes& body) {
    std::uint8_t size[4];
    if (!read_exact(fd, size, 4)) return false;
    const std::uint32_t n = (size[0] << 24) | (size[1] << 16) | (size[2] << 8) | size[3];
    body.resize(n);
    return read_exact(fd, body.data(), n);
  }
  int connect_broker() {
    const auto colon = broker_.rfind(':');
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(broker_.substr(colon + 1))));
    ::inet_pton(AF_INET, broker_.substr(0, colon).c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  void accept_loop() {
    while (!stopping_) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      const int server = connect_broker();
      if (server < 0) {
        ::close(client);
        continue;
      }
      auto waiting = std::make_shared<std::pair<std::mutex, std::deque<kafka_portal::detail::tracked_request>>>();
      std::lock_guard lock(mutex_);
      sockets_.insert(sockets_.end(), {client, server});
      threads_.emplace_back([=, this] { requests(client, server, waiting); });
      threads_.emplace_back([=, this] { answers(server, client, waiting); });
    }
  }
  using queue = std::shared_ptr<std::pair<std::mutex, std::deque<kafka_portal::detail::tracked_request>>>;
  void requests(int client, int server, queue waiting) {
    bytes body;
    while (read_frame(client, body)) {
      auto head = kafka_portal::detail::read_request_head(body, true);
      if (!head || !head.value()) break;
      if (head.value()->answered) {
        std::lock_guard lock(waiting->first);
        waiting->second.push_back(head.value()->request);
      }
      if (!write_all(server, kafka::with_size_prefix(body))) break;
    }
    ::shutdown(server, SHUT_WR);
  }
  void answers(int server, int client, queue waiting) {
    bytes body;
    while (read_frame(server, body)) {
      kafka_portal::detail::tracked_request r;
      {
        std::lock_guard lock(waiting->first);
        if (waiting->second.empty()) break;
        r = waiting->second.front();
        waiting->second.pop_front();
      }
      bytes out = body;
      namespace key = kafka_portal::detail::api_key;
      const bool rewrite = r.api_key == key::metadata || r.api_key == key::find_coordinator || r.api_key == key::fetch;
      if (rewrite && kafka::supported_versions(r.api_key) &&
          kafka::supported_versions(r.api_key)->contains(r.api_version)) {
        auto frame = kafka::decode_response(body, r.api_key, r.api_version);
        if (frame) {
          kafka_portal::detail::rewrite_brokers(frame.value().body, [this](std::int32_t) {
            return std::make_pair(std::string("127.0.0.1"), std::int32_t{port_});
          });
          if (auto* fetch = std::get_if<kafka::fetch_response>(&frame.value().body)) {
            tamper_(*fetch);
            ++tampered_;
          }
          out = kafka::encode_response(frame.value());
        }
      }
      if (!write_all(client, kafka::with_size_prefix(out))) break;
    }
    ::shutdown(client, SHUT_WR);
  }

  std::string broker_;
  tamperer tamper_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> tampered_{0};
  std::thread accepter_;
  std::mutex mutex_;
  std::vector<int> sockets_;
  std::vector<std::thread> threads_;
};

}  // namespace nodus::test
