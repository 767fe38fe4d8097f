#pragma once
// The TCP side of the portal tests, in plain POSIX sockets on loopback: a target server whose
// connections each run a handler in a thread of their own, and clients driven by one poll()
// loop, so hundreds can exchange data at once with every wait bounded.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "nodus/core/bytes.hpp"

namespace nodus::test {

/// `n` bytes of a pseudo-random stream named by `seed` (xorshift: quick enough for tens of MiB).
inline bytes pattern(std::size_t n, std::uint64_t seed) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 8 == 0) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    out[i] = static_cast<std::uint8_t>(x >> (8 * (i % 8)));
  }
  return out;
}

/// A listening socket on 127.0.0.1:0; `handler(fd)` runs for each accepted connection in its own
/// thread. The server owns the connections: a handler ends one with `close(fd)`, and the
/// destructor shuts down whatever is open (ending blocked reads and writes) and joins.
class target_server {
public:
  using handler = std::function<void(target_server&, int fd)>;

  explicit target_server(handler h) : handler_(std::move(h)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof where;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0 ||
        ::listen(listen_fd_, 512) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&where), &size) != 0)
      throw std::runtime_error("target_server: cannot listen on 127.0.0.1:0");
    address_ = "127.0.0.1:" + std::to_string(ntohs(where.sin_port));
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  target_server(const target_server&) = delete;
  target_server& operator=(const target_server&) = delete;

  ~target_server() {
    stopping_ = true;
    if (on_stop) on_stop();             // e.g. opens the gates handlers wait at
    ::shutdown(listen_fd_, SHUT_RDWR);  // ends the blocked accept()
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    for (int fd : open_) ::close(fd);
  }

  /// `127.0.0.1:PORT`.
  const std::string& address() const { return address_; }
  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }
  /// Closes `fd` now (with unread data the peer sees a reset).
  void close(int fd) {
    std::lock_guard lock(mutex_);
    std::erase(open_, fd);
    ::close(fd);
  }
  bool stopping() const { return stopping_.load(); }
  /// Called first when the server stops, before it waits for its handlers.
  std::function<void()> on_stop;

private:
  void accept_loop() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        if (stopping_ || errno != EINTR) return;
        continue;
      }
      std::lock_guard lock(mutex_);
      open_.push_back(fd);
      ++accepted_;
      threads_.emplace_back([this, fd] { handler_(*this, fd); });
    }
  }

  handler handler_;
  int listen_fd_ = -1;
  std::string address_;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<int> open_;
};

/// Writes all of `data` to a blocking socket; false when the connection failed.
inline bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const auto n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

/// A handler that writes back whatever it reads, and ends its stream after the client's.
inline void echo_back(target_server&, int fd) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    if (!write_all(fd, buffer.data(), static_cast<std::size_t>(n))) return;
  }
  ::shutdown(fd, SHUT_WR);
}

/// What a handler that reads everything saw: the bytes (until the end of the stream).
struct received_stream {
  std::mutex mutex;
  bytes data;
  bool ended = false;
  void append(const std::uint8_t* p, std::size_t n) {
    std::lock_guard lock(mutex);
    data.insert(data.end(), p, p + n);
  }
  void end() {
    std::lock_guard lock(mutex);
    ended = true;
  }
  bool has_ended() {
    std::lock_guard lock(mutex);
    return ended;
  }
  bytes copy() {
    std::lock_guard lock(mutex);
    return data;
  }
};

/// Reads `fd` to the end of its stream into `into`.
inline void read_to_end(int fd, received_stream& into) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    into.append(buffer.data(), static_cast<std::size_t>(n));
  }
  into.end();
}

/// One client connection driven by `run_clients`: it sends `to_send`, then shuts down its
/// sending side, and reads until the end of the stream or an error.
struct client {
  int fd = -1;
  bytes to_send;
  std::size_t sent = 0;
  bool shut = false;       ///< its sending side is shut down
  bool keep_open = false;  ///< do not shut down the sending side after `to_send`
  bytes received;
  bool eof = false;
  int error = 0;  ///< errno of the first failed send or receive, 0 if none

  bool done() const { return error != 0 || (eof && (shut || keep_open || sent == to_send.size())); }
  ~client() {
    if (fd >= 0) ::close(fd);
  }
  client() = default;
  client(client&& o) noexcept
      : fd(std::exchange(o.fd, -1)),
        to_send(std::move(o.to_send)),
        sent(o.sent),
        shut(o.shut),
        keep_open(o.keep_open),
        received(std::move(o.received)),
        eof(o.eof),
        error(o.error) {}
};

/// A non-blocking socket connected to `host_port` (an IPv4 `127.0.0.1:PORT`), or -1.
inline int connect_to(const std::string& host_port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  where.sin_port = htons(static_cast<std::uint16_t>(std::stoi(host_port.substr(host_port.rfind(':') + 1))));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/// A client of `host_port` that will send `data`.
inline client new_client(const std::string& host_port, bytes data) {
  client c;
  c.fd = connect_to(host_port);
  if (c.fd < 0) c.error = errno ? errno : ECONNREFUSED;
  c.to_send = std::move(data);
  return c;
}

/// One step of a client: sends what the socket takes, receives what has come. `readable` and
/// `writable` come from poll().
inline void step(client& c, bool readable, bool writable) {
  if (writable && c.sent < c.to_send.size() && c.error == 0) {
    const auto n = ::send(c.fd, c.to_send.data() + c.sent, std::min<std::size_t>(c.to_send.size() - c.sent, 65536),
                          MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) c.sent += static_cast<std::size_t>(n);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.error = errno;
  }
  if (c.sent == c.to_send.size() && !c.shut && !c.keep_open && c.error == 0) {
    ::shutdown(c.fd, SHUT_WR);
    c.shut = true;
  }
  if (readable && !c.eof && c.error == 0) {
    std::uint8_t buffer[65536];
    const auto n = ::recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) c.received.insert(c.received.end(), buffer, buffer + n);
    if (n == 0) c.eof = true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.error = errno;
  }
}

/// Runs every client until each is `done()` (or `until()` holds); false if that has not happened
/// within `limit`.
inline bool run_clients(std::vector<client*> clients, std::chrono::milliseconds limit,
                        const std::function<bool()>& until = {}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::vector<pollfd> fds;
  std::vector<client*> active;
  for (;;) {
    if (until && until()) return true;
    fds.clear();
    active.clear();
    for (auto* c : clients) {
      if (c->done()) continue;
      const short events = static_cast<short>(POLLIN | (c->sent < c->to_send.size() ? POLLOUT : 0));
      fds.push_back(pollfd{c->fd, events, 0});
      active.push_back(c);
    }
    if (active.empty()) return !until;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (::poll(fds.data(), fds.size(), 50) < 0 && errno != EINTR) return false;
    for (std::size_t i = 0; i < active.size(); ++i) {
      const bool error = fds[i].revents & (POLLERR | POLLHUP);
      step(*active[i], (fds[i].revents & POLLIN) || error, (fds[i].revents & POLLOUT) || error);
    }
  }
}

/// Runs `c` until `until()` holds; false if it ends or the time runs out first.
inline bool run_until(client& c, const std::function<bool()>& until, std::chrono::milliseconds limit) {
  return run_clients({&c}, limit, until);
}

/// A handler that echoes the first `limit` bytes, then waits at `g` (so a transfer stays in the
/// middle), then echoes the rest.
template <class Gate>
target_server::handler echo_then_wait(std::size_t limit, Gate& g) {
  return [limit, &g](target_server&, int fd) {
    std::vector<std::uint8_t> buffer(64 * 1024);
    std::size_t echoed = 0;
    bool waited = false;
    for (;;) {
      if (!waited && echoed >= limit) {
        g.wait();
        waited = true;
      }
      const auto want = waited ? buffer.size() : std::min(buffer.size(), limit - echoed);
      const auto n = ::recv(fd, buffer.data(), want, 0);
      if (n <= 0) break;
      if (!write_all(fd, buffer.data(), static_cast<std::size_t>(n))) return;
      echoed += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
  };
}

inline bool run_client(client& c, std::chrono::milliseconds limit) { return run_clients({&c}, limit); }

/// The most the kernel may buffer on one loopback connection, both ends (the largest send
/// and receive buffers autotuning may reach).
inline std::size_t max_socket_buffers() {
  auto largest = [](const char* file) {
    std::ifstream in(file);
    std::size_t min = 0, initial = 0, max = 0;
    in >> min >> initial >> max;
    return max ? max : std::size_t{8} << 20;
  };
  return largest("/proc/sys/net/ipv4/tcp_wmem") + largest("/proc/sys/net/ipv4/tcp_rmem");
}

}  // namespace nodus::test
