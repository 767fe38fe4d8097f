// One TCP connection: a worker that writes frames, and a read loop that turns frames into
// local messages. Everything that touches the socket runs on the connection's strand.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "nodus/core/delivery_error.hpp"
#include "nodus/node/extension.hpp"
#include "tcp_shared.hpp"

namespace nodus::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The longest piece of an address quoted in a delivery error's reason.
constexpr std::size_t max_quoted = 64;

std::error_code to_std(const boost::system::error_code& ec) { return ec; }

// Runs on the link's strand: looks `peer` up and connects, within `timeout`.
task<std::error_code> dial_on_strand(std::shared_ptr<tcp_link> link, std::string host, std::string port,
                                     duration timeout) {
  auto resolver = std::make_shared<tcp::resolver>(link->strand);
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer timer(link->strand, timeout);
  timer.async_wait([link, resolver, timed_out](boost::system::error_code ec) {
    if (ec) return;
    *timed_out = true;
    resolver->cancel();
    boost::system::error_code ignored;
    link->socket.close(ignored);
  });
  boost::system::error_code ec;
  auto endpoints = co_await resolver->async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await asio::async_connect(link->socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  if (*timed_out) co_return make_error_code(errc::timeout);
  if (ec) co_return to_std(ec);
  configure_socket(link->socket);
  co_return std::error_code();
}

// Closes the socket unless the timer is cancelled (or set again) within `deadline`.
void arm_frame_deadline(asio::steady_timer& timer, const std::shared_ptr<tcp_link>& link, duration deadline) {
  timer.expires_after(deadline);
  timer.async_wait([link](boost::system::error_code ec) {
    if (ec) return;
    link->past_deadline = true;
    boost::system::error_code ignored;
    link->socket.close(ignored);
  });
}

// Why a connection was closed at its frame deadline: `trickled` when bytes of the frame kept
// arriving (too slowly), not when it stopped after its first bytes.
std::string deadline_reason(duration deadline, bool trickled) {
  if (trickled)
    return fmt::format("it did not send the whole of a frame within the {} ms frame deadline", deadline.count());
  return fmt::format("it sent part of a frame and then nothing for {} ms (the frame deadline)", deadline.count());
}

// Runs on the link's strand until the connection ends, forwarding each received message with
// the connection's worker pushed on its return route (so replies go back over this socket).
task<> read_loop(std::shared_ptr<tcp_shared> shared, std::shared_ptr<tcp_link> link, address worker) {
  auto control = shared->control_context();
  if (!control) co_return;
  tcp_frame::decoder decoder(shared->options.max_frame_size);
  const decode_limits limits{.max_payload = shared->options.max_frame_size};
  const auto deadline = shared->options.frame_deadline;
  asio::steady_timer deadline_timer(link->strand);
  bool timing = false;    // the deadline runs for the frame in progress
  bool trickled = false;  // more of that frame arrived after the read that started it
  std::string reason;
  bool orderly = false;

  while (reason.empty()) {
    if (!decoder.in_frame()) {
      deadline_timer.cancel();
      timing = false;
    } else if (!timing) {  // a frame has started: all of it must arrive in time
      arm_frame_deadline(deadline_timer, link, deadline);
      timing = true;
      trickled = false;
    }
    boost::system::error_code ec;
    const auto into = decoder.buffer();
    if (!link->budget.hold(decoder.large_frame_capacity())) {  // nothing is read into what it grew
      reason = fmt::format("its partial frame would take the listener over its {}-byte limit (max_buffered_bytes)",
                           link->budget.max_buffered_bytes());
      break;
    }
    const auto n = co_await link->socket.async_read_some(asio::buffer(into.data(), into.size()),
                                                         asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      orderly = ec == asio::error::eof;
      reason = link->past_deadline ? deadline_reason(deadline, trickled)
               : orderly           ? "closed by the peer"
                                   : ec.message();
      break;
    }
    if (timing) trickled = true;
    link->counters->bytes_in.fetch_add(n, std::memory_order_relaxed);
    if (auto committed = decoder.commit(n); !committed) {
      reason = fmt::format("it opened with protocol version {} (expected {})", decoder.version_received().value_or(0),
                           tcp_frame::protocol_version);
      break;
    }
    for (;;) {
      auto frame = decoder.next_frame();
      if (!frame) {
        reason = fmt::format("a frame is longer than the {}-byte limit", shared->options.max_frame_size);
        break;
      }
      if (!frame.value()) break;
      deadline_timer.cancel();  // this frame is whole in time; forwarding it is not the peer's time
      timing = false;
      auto decoded = tcp_frame::decode(std::move(*frame.value()), limits);
      if (!decoded) {
        reason = fmt::format("a frame does not decode: {}", decoded.error().message());
        break;
      }
      auto message = to_local_message(std::move(decoded).value());
      link->counters->messages_in.fetch_add(1, std::memory_order_relaxed);
      message.return_route.prepend(worker);
      message.origin = link->origin;  // what this node may let it reach depends on where it came from
      if (shared->log.should_log(spdlog::level::trace))  // NODUS_LOG=trace: what crosses this node
        shared->log.trace("tcp: from {}: to {}, {} bytes: {}", link->peer, message.onward_route, message.payload.size(),
                          printable(message.payload));
      // The node logs a message it cannot deliver (no worker, access denied); the connection stays.
      co_await control->forward(std::move(message));
    }
  }
  deadline_timer.cancel();
  if (close_once(*link)) {  // otherwise the writer or the worker closed it first, and said why
    if (orderly)
      shared->log.info("tcp: {} closed the connection ({})", link->peer, worker);
    else
      shared->log.warn("tcp: closing the connection with {} ({}): {}", link->peer, worker, reason);
  }
  link->budget.release();  // before the worker stops: once it is gone, another may take its place
  // Every way a connection ends passes here (a closed socket ends the pending read), so this is
  // where its worker is stopped, unless the worker is stopping already.
  if (!link->worker_stopping && is_served(*control, worker)) co_await control->stop_worker(worker);
}

}  // namespace

tcp_connection_worker::tcp_connection_worker(std::shared_ptr<tcp_shared> shared, std::string peer, bool connect_now,
                                             std::shared_ptr<const flow_origin> origin)
    : shared_(std::move(shared)),
      peer_(std::move(peer)),
      origin_(std::move(origin)),
      outgoing_(true),
      connect_now_(connect_now) {}

tcp_connection_worker::tcp_connection_worker(std::shared_ptr<tcp_shared> shared, std::shared_ptr<tcp_link> accepted)
    : shared_(std::move(shared)), peer_(accepted->peer), outgoing_(false), link_(std::move(accepted)) {}

task<result<>> tcp_connection_worker::initialize(context& ctx) {
  if (outgoing_) {  // connection_to has claimed the peer for this worker already
    if (!connect_now_) co_return ok();
    co_return co_await dial(ctx);
  }
  send_frame(link_, bytes(1, tcp_frame::protocol_version), bytes(), shared_->log);
  shared_->opened(tcp_connection_info{ctx.address(), peer_, false});
  start_reading(ctx);
  co_return ok();
}

task<result<>> tcp_connection_worker::dial(context& ctx) {
  const auto not_before = shared_->next_attempt(peer_);
  if (const auto now = clock::now(); not_before > now) {
    auto waited = co_await ctx.sleep(std::chrono::duration_cast<duration>(not_before - now));
    if (!waited) co_return waited.error();
  }
  auto host_port = split_host_port(peer_);
  if (!host_port) co_return host_port.error();
  auto link = std::make_shared<tcp_link>(shared_->io, shared_->counters);
  link->peer = peer_;
  link->origin = origin_;
  auto strand = link->strand;
  auto [host, port] = std::move(host_port).value();
  const auto dial_error = co_await asio::co_spawn(
      strand, dial_on_strand(link, std::move(host), std::move(port), shared_->options.connect_timeout),
      asio::use_awaitable);
  if (dial_error) {
    attempt_failed_ = true;
    last_error_ = dial_error;
    ctx.log().warn("tcp: cannot connect to {}: {}", peer_, dial_error.message());
    co_return dial_error;
  }
  send_frame(link, bytes(1, tcp_frame::protocol_version), bytes(), shared_->log);
  link_ = std::move(link);
  shared_->opened(tcp_connection_info{ctx.address(), peer_, true});
  shared_->counters->connections_dialled.fetch_add(1, std::memory_order_relaxed);
  ctx.log().debug("tcp: connected to {} ({})", peer_, ctx.address());
  start_reading(ctx);
  co_return ok();
}

void tcp_connection_worker::start_reading(context& ctx) {
  auto strand = link_->strand;
  asio::co_spawn(strand, read_loop(shared_, link_, ctx.address()), asio::detached);
}

task<result<>> tcp_connection_worker::handle_message(context& ctx, local_message message) {
  (void)message.onward_route.step();  // this connection
  if (!link_) {
    if (auto dialled = co_await dial(ctx); !dialled) {
      // Everything queued for this peer fails with it; the next send starts a new attempt.
      ctx.log().warn("tcp: message to '{}' via {} dropped", message.onward_route, peer_);
      report_undeliverable(ctx, message, errc::unknown_address,
                           fmt::format("cannot connect to '{}'", printable_cut(peer_, max_quoted)));
      co_await ctx.stop_worker(ctx.address());
      co_return ok();
    }
  }
  if (link_->closing) {  // the read loop is about to stop this worker
    ctx.log().debug("tcp: message to '{}' dropped: the connection with {} is closing", message.onward_route, peer_);
    co_return ok();
  }
  auto origin = message.origin;
  auto outgoing = to_transport_message(std::move(message));
  bytes head;
  if (!tcp_frame::append_head(outgoing, shared_->options.max_frame_size, head)) {
    ctx.log().warn("tcp: message to {} refused: its frame is over the {}-byte limit", peer_,
                   shared_->options.max_frame_size);
    // `outgoing` has taken the message's routes; the notice needs its return route and origin.
    local_message refused{{}, std::move(outgoing.return_route), {}, {}, std::move(origin), outgoing.kind};
    report_undeliverable(
        ctx, refused, errc::too_large,
        fmt::format("the message is over the frame limit towards '{}'", printable_cut(peer_, max_quoted)));
    co_return ok();
  }
  link_->counters->messages_out.fetch_add(1, std::memory_order_relaxed);
  send_frame(link_, std::move(head), std::move(outgoing.payload), shared_->log);
  co_await wait_for_room(link_, shared_->options.max_unsent_bytes);  // back-pressure from the socket
  co_return ok();
}

task<result<>> tcp_connection_worker::handle_delivery_error(context& ctx, local_message notice) {
  if (!link_) {
    ctx.log().debug("tcp: a delivery error notice for {} dropped: not connected", peer_);
    co_return ok();
  }
  co_return co_await handle_message(ctx, std::move(notice));
}

task<> tcp_connection_worker::shutdown(context& ctx) {
  if (outgoing_) shared_->release(peer_, ctx.address(), attempt_failed_);
  shared_->closed(ctx.address());
  if (link_) {
    // The socket must go before the node's io_context does; close it on its strand.
    link_->worker_stopping = true;
    auto strand = link_->strand;
    asio::post(strand, [link = std::move(link_)] { close_once(*link); });
  }
  co_return;
}

}  // namespace nodus::detail
