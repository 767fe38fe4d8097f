#pragma once
// Loopback addresses for servers that a test stops and starts again on the same port.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <stdexcept>
#include <string>

namespace nodus::test {

/// "127.0.0.1:PORT" with a port that is free now and that the kernel never hands out by itself.
///
/// Port 0 picks from the kernel's ephemeral range (32768-60999 on Linux): while a server that
/// took such a port is down for a restart, any other test running beside it (ctest -j) may be
/// given that port for a listener or an outgoing connection, and the restart fails or talks to
/// a stranger. Below that range only another test doing the same can land, by picking the same
/// random number out of 12 000.
inline std::string restartable_address() {
  std::random_device seed;
  std::uniform_int_distribution<int> pick(20000, 31999);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = pick(seed);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_port = htons(static_cast<std::uint16_t>(port));
    where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) == 0;
    ::close(fd);  // bound, never listened on: no TIME_WAIT is left behind
    if (free) return "127.0.0.1:" + std::to_string(port);
  }
  throw std::runtime_error("no free loopback port between 20000 and 31999");
}

}  // namespace nodus::test
