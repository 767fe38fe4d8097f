// One end of a portal connection, its socket's side: the read loop (socket to the other end,
// within the other end's window), the write loop (the other end's chunks to the socket, then
// acknowledgements), keepalive, and sending. On the connection's strand, like connection.cpp.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "connection.hpp"

namespace nodus::portal::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t max_batch_buffers = 64;  // one gathered write takes at most this much
constexpr std::size_t max_batch_bytes = 1024 * 1024;

}  // namespace

// ---- this end's socket --------------------------------------------------------------------

task<> connection::read_loop(std::shared_ptr<connection> c) {
  auto& s = *c;
  const char* who = s.side_->what == side::kind::inlet ? "client" : "target";
  while (s.phase_ == phase::open) {
    const auto in_flight = s.sent_ - s.acked_;
    if (in_flight >= s.peer_window_) {  // the other end's window is full: wait for an ack
      s.credit_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ignored;
      co_await s.credit_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      continue;
    }
    if (s.filter_) {
      if (co_await read_filtered(c)) continue;
      if (s.phase_ != phase::open) co_return;
      break;  // end of stream
    }
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(s.side_->settings.chunk, s.peer_window_ - in_flight));
    bytes frame(data_head_size + want);  // read straight into the message, after its head
    boost::system::error_code ec;
    const auto n = co_await s.socket_.async_read_some(asio::buffer(frame.data() + data_head_size, want),
                                                      asio::redirect_error(asio::use_awaitable, ec));
    if (s.phase_ != phase::open) co_return;
    if (ec == asio::error::eof) break;
    if (ec) {
      s.fail(close_code::reset, fmt::format("reading from {}: {}", s.endpoint_, ec.message()),
             fmt::format("the {}'s connection failed: {}", who, ec.message()));
      co_return;
    }
    frame.resize(data_head_size + n);
    data_head(s.sent_, n, frame.data());
    s.sent_ += n;
    s.side_->state->unacked += n;
    s.side_->state->in += n;
    auto sent = co_await s.say(std::move(frame));
    if (s.phase_ != phase::open) co_return;
    if (!sent) {  // the route is broken: telling the other end along it is pointless
      s.fail(close_code::reset, fmt::format("cannot send to the {}: {}", s.side_->other(), sent.error().message()), {});
      co_return;
    }
  }
  if (s.phase_ != phase::open) co_return;
  s.read_done_ = true;  // half-close: the other end shuts down its socket's sending side
  auto end = encode(message::eof(s.sent_));
  auto sent = co_await s.say(std::move(end));
  if (s.phase_ != phase::open) co_return;
  if (!sent) {
    s.fail(close_code::reset, fmt::format("cannot send to the {}: {}", s.side_->other(), sent.error().message()), {});
    co_return;
  }
  s.side_->log.debug("{}: {}: the {} ended its stream after {} bytes", s.side_->label, s.describe(), who, s.sent_);
  s.maybe_finish();
}

task<> connection::write_loop(std::shared_ptr<connection> c) {
  auto& s = *c;
  const char* who = s.side_->what == side::kind::inlet ? "client" : "target";
  std::vector<chunk> batch;  // out of the outbox while written, so merging never touches them
  std::vector<asio::const_buffer> buffers;
  while (s.phase_ == phase::open && !s.outbox_.empty()) {
    batch.clear();
    buffers.clear();
    std::size_t size = 0;
    while (!s.outbox_.empty() && batch.size() < max_batch_buffers && size < max_batch_bytes) {
      size += s.outbox_.front().size;
      batch.push_back(std::move(s.outbox_.front()));
      s.outbox_.pop_front();
    }
    for (const auto& b : batch) buffers.emplace_back(b.storage.data() + b.begin, b.size);
    boost::system::error_code ec;
    co_await asio::async_write(s.socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
    if (s.phase_ != phase::open) break;
    if (ec) {
      s.fail(close_code::reset, fmt::format("writing to {}: {}", s.endpoint_, ec.message()),
             fmt::format("the {}'s connection failed: {}", who, ec.message()));
      break;
    }
    if (s.filter_)  // acknowledged: what the filter took in for what is written
      s.note_written(s.outbox_.empty() ? s.received_ : batch.back().input_end);
    else {
      s.written_ += size;
      s.side_->state->buffered -= size;
    }
    s.side_->state->out += size;
    s.schedule_ack();
  }
  s.writing_ = false;
  if (s.phase_ == phase::open && s.outbox_.empty() && s.peer_eof_ && !s.shut_wr_) s.shut_down_output();
}

// One read through the filter: false at the end of the stream or when the connection has ended
// (phase_ tells which).
task<bool> connection::read_filtered(std::shared_ptr<connection> c) {
  auto& s = *c;
  const char* who = s.side_->what == side::kind::inlet ? "client" : "target";
  auto& buffer = s.filter_buffer_;  // kept between reads: the filter copies what it keeps
  buffer.resize(s.side_->settings.chunk);
  boost::system::error_code ec;
  const auto n = co_await s.socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                                    asio::redirect_error(asio::use_awaitable, ec));
  if (s.phase_ != phase::open || ec == asio::error::eof) co_return false;
  if (ec) {
    s.fail(close_code::reset, fmt::format("reading from {}: {}", s.endpoint_, ec.message()),
           fmt::format("the {}'s connection failed: {}", who, ec.message()));
    co_return false;
  }
  auto out = co_await s.filter_->from_socket(byte_view(buffer.data(), n));
  if (s.phase_ != phase::open) co_return false;
  if (!out) {
    const auto why = out.error().message();
    s.fail(close_code::protocol, why, why);
    co_return false;
  }
  if (!out.value().to_socket.empty()) s.queue_filtered(std::move(out.value().to_socket));
  co_return co_await send_data(c, out.value().to_peer);
}

task<bool> connection::send_data(std::shared_ptr<connection> c, byte_view out) {
  auto& s = *c;
  std::size_t done = 0;
  while (done < out.size()) {
    const auto in_flight = s.sent_ - s.acked_;
    if (in_flight >= s.peer_window_) {  // the other end's window is full: wait for an ack
      s.credit_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ignored;
      co_await s.credit_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      if (s.phase_ != phase::open) co_return false;
      continue;
    }
    const auto piece = static_cast<std::size_t>(
        std::min<std::uint64_t>({s.side_->settings.chunk, s.peer_window_ - in_flight, out.size() - done}));
    bytes frame(data_head_size + piece);
    std::copy_n(out.data() + done, piece, frame.data() + data_head_size);
    data_head(s.sent_, piece, frame.data());
    s.sent_ += piece;
    s.side_->state->unacked += piece;
    s.side_->state->in += piece;
    done += piece;
    auto sent = co_await s.say(std::move(frame));
    if (s.phase_ != phase::open) co_return false;
    if (!sent) {
      s.fail(close_code::reset, fmt::format("cannot send to the {}: {}", s.side_->other(), sent.error().message()), {});
      co_return false;
    }
  }
  co_return true;
}

void connection::shut_down_output() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  shut_wr_ = true;
  side_->log.debug("{}: {}: the {} ended its stream after {} bytes", side_->label, describe(), side_->other(),
                   written_);
  maybe_finish();
}

void connection::schedule_ack() {
  if (acking_) return;  // the running ack loop sends the newest count too
  acking_ = true;
  asio::co_spawn(strand_, ack_loop(shared_from_this()), asio::detached);
}

task<> connection::ack_loop(std::shared_ptr<connection> c) {
  auto& s = *c;
  while (s.phase_ == phase::open && s.ack_sent_ < s.written_) {
    const auto upto = s.written_;
    auto ack = encode(message::ack(upto));
    auto sent = co_await s.say(std::move(ack));
    if (s.phase_ != phase::open) break;
    if (!sent) {
      s.fail(close_code::reset, fmt::format("cannot send to the {}: {}", s.side_->other(), sent.error().message()), {});
      break;
    }
    s.ack_sent_ = upto;
  }
  s.acking_ = false;
  s.maybe_finish();
}

// Open timeout while opening; then every keepalive interval: a ping if this end has been quiet,
// and the end of the connection if the other end has been silent for peer_timeout.
task<> connection::tick_loop(std::shared_ptr<connection> c) {
  auto& s = *c;
  const auto& settings = s.side_->settings;
  const auto open_deadline = clock::now() + settings.open_timeout;
  while (!s.closed()) {
    if (s.phase_ == phase::open)
      s.tick_.expires_after(settings.keepalive);
    else
      s.tick_.expires_at(open_deadline);
    boost::system::error_code ec;
    co_await s.tick_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (s.closed()) co_return;
    if (ec) continue;  // cancelled: the connection has opened
    if (s.phase_ != phase::open) {
      const auto waited = settings.open_timeout.count();
      const auto what = s.phase_ == phase::idle
                            ? fmt::format("no route to the outlet within {} ms (open_timeout)", waited)
                            : fmt::format("no answer from the outlet within {} ms (open_timeout)", waited);
      s.fail(close_code::timeout, what, {});
      co_return;
    }
    const auto now = clock::now();
    if (now - s.last_heard_ >= settings.peer_timeout) {
      s.fail(close_code::timeout,
             fmt::format("nothing heard from the {} for {} ms (peer_timeout)", s.side_->other(),
                         settings.peer_timeout.count()),
             fmt::format("nothing heard from the {} for {} ms", s.side_->name(), settings.peer_timeout.count()));
      co_return;
    }
    if (now - s.last_said_ >= settings.keepalive) s.say_later(message::ping());
  }
}

// ---- sending to the other end -------------------------------------------------------------

task<result<>> connection::say(bytes payload) {
  auto control = side_->control();
  if (!control) co_return errc::stopped;
  last_said_ = clock::now();
  // From the worker's address: the other end's answers come back to it, and the flow this goes
  // into may reach it (nodus/node/flow_control.hpp, replies).
  local_message out{peer_, route(self_), std::move(payload), {}};
  co_return co_await control->forward(std::move(out));
}

void connection::say_later(const message& m) {
  asio::co_spawn(strand_, say_detached(shared_from_this(), encode(m)), asio::detached);
}

task<> connection::say_detached(std::shared_ptr<connection> c, bytes payload) {
  // A ping this node cannot even hand on (the channel is gone) ends the connection now; one lost
  // further along is noticed by the other end's peer_timeout.
  auto sent = co_await c->say(std::move(payload));
  if (!sent && !c->closed())
    c->fail(close_code::reset, fmt::format("cannot send to the {}: {}", c->side_->other(), sent.error().message()), {});
}

}  // namespace nodus::portal::detail
