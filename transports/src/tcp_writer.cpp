// The write side of a connection: frames are queued without waiting, and one writer coroutine
// per link sends everything queued in a single gathered write. Runs on the link's strand.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "tcp_shared.hpp"

namespace nodus::detail {
namespace asio = boost::asio;

namespace {

// One gathered write takes at most this much (Asio hands the kernel up to 64 buffers at once).
constexpr std::size_t max_batch_buffers = 64;
constexpr std::size_t max_batch_bytes = 1024 * 1024;

void drop_outbox(tcp_link& link) {
  std::size_t dropped = 0;
  for (const auto& b : link.outbox) dropped += b.size();
  link.outbox.clear();
  link.unsent_bytes -= dropped;
}

task<> write_loop(std::shared_ptr<tcp_link> link, spdlog::logger* log) {
  std::vector<bytes> batch;
  std::vector<asio::const_buffer> buffers;
  while (!link->outbox.empty() && !link->closing) {
    batch.clear();
    buffers.clear();
    std::size_t size = 0;
    while (!link->outbox.empty() && batch.size() < max_batch_buffers && size < max_batch_bytes) {
      batch.push_back(std::move(link->outbox.front()));
      link->outbox.pop_front();
      size += batch.back().size();
      buffers.push_back(asio::buffer(batch.back()));
    }
    boost::system::error_code ec;
    const auto written =
        co_await asio::async_write(link->socket, buffers, asio::redirect_error(asio::use_awaitable, ec));
    link->counters->bytes_out.fetch_add(written, std::memory_order_relaxed);
    link->unsent_bytes -= size;
    link->room.cancel();
    if (ec) {
      if (close_once(*link)) log->warn("tcp: connection with {} lost while sending: {}", link->peer, ec.message());
      break;
    }
  }
  if (link->closing) drop_outbox(*link);
  link->writing = false;
}

}  // namespace

bool close_once(tcp_link& link) {
  if (link.closing.exchange(true)) return false;
  boost::system::error_code ignored;
  link.socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  link.socket.close(ignored);
  link.room.cancel();  // a worker waiting for room must not wait for a closed socket
  return true;
}

void send_frame(const std::shared_ptr<tcp_link>& link, bytes head, bytes payload, spdlog::logger& log) {
  link->unsent_bytes += head.size() + payload.size();
  asio::post(link->strand, [link, head = std::move(head), payload = std::move(payload), log = &log]() mutable {
    if (link->closing) {
      link->unsent_bytes -= head.size() + payload.size();
      return;
    }
    link->outbox.push_back(std::move(head));
    if (!payload.empty()) link->outbox.push_back(std::move(payload));
    if (link->writing) return;
    link->writing = true;
    asio::co_spawn(link->strand, write_loop(link, log), asio::detached);
  });
}

namespace {
task<> wait_on_strand(std::shared_ptr<tcp_link> link, std::size_t limit) {
  while (link->unsent_bytes.load() > limit && !link->closing) {
    link->room.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await link->room.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}
}  // namespace

task<> wait_for_room(std::shared_ptr<tcp_link> link, std::size_t limit) {
  if (link->unsent_bytes.load() <= limit) co_return;
  auto strand = link->strand;
  co_await asio::co_spawn(strand, wait_on_strand(std::move(link), limit), asio::use_awaitable);
}

}  // namespace nodus::detail
