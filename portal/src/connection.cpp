// One end of a portal connection: the messages of the other end (receive), the socket's two
// directions (read_loop, write_loop), acknowledgements, keepalive, and the ways it ends. Every
// function here runs on the connection's strand, so its state needs no lock.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "connection.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "nodus/node/extension.hpp"

namespace nodus::portal::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t small_chunk = 4096;           // smaller chunks are copied together
constexpr std::size_t merged_capacity = 64 * 1024;  // into buffers of up to this much
constexpr std::size_t max_batch_buffers = 64;       // one gathered write takes at most this much
constexpr std::size_t max_batch_bytes = 1024 * 1024;
constexpr std::size_t max_reason_logged = 200;

// What the other end said, escaped and cut short for a log line.
std::string peer_words(std::string_view reason) { return printable(as_bytes(reason.substr(0, max_reason_logged))); }

// The other end, for log lines: its connection worker (the last hop back) and the flow it is on.
std::string describe_peer(const route& back, const std::shared_ptr<const flow_origin>& origin) {
  const auto worker = back.empty() ? std::string("?") : fmt::format("{}", back[back.size() - 1]);
  if (!origin) return fmt::format("{} on this node", worker);
  return fmt::format("{} via {}", worker, origin->description);
}

std::string_view kind_name(message_kind k) {
  switch (k) {
    case message_kind::open: return "open";
    case message_kind::opened: return "opened";
    case message_kind::data: return "data";
    case message_kind::ack: return "ack";
    case message_kind::eof: return "eof";
    case message_kind::close: return "close";
    case message_kind::ping: return "ping";
  }
  return "unknown";
}

}  // namespace

connection::connection(std::shared_ptr<side> s, address self, strand_type strand, tcp::socket socket,
                       std::string endpoint)
    : side_(std::move(s)),
      self_(std::move(self)),
      strand_(std::move(strand)),
      socket_(std::move(socket)),
      endpoint_(std::move(endpoint)),
      credit_(strand_),
      tick_(strand_) {}

connection::~connection() {
  // Abandoned without closing (the node stopped under it): the counts still go back.
  if (phase_ != phase::closed) {
    if (counted_open_) side_->state->open -= 1;
    side_->state->unacked -= sent_ - acked_;
    side_->state->buffered -= received_ - written_;
  }
}

std::string connection::describe() const {
  if (side_->what == side::kind::inlet) return fmt::format("connection from {} ({})", endpoint_, self_);
  return fmt::format("connection to {} ({})", endpoint_, self_);
}

void connection::counted_open() {
  counted_open_ = true;
  side_->state->open += 1;
}

// ---- opening ------------------------------------------------------------------------------

void connection::start_open_timer() {
  last_heard_ = last_said_ = clock::now();
  asio::co_spawn(strand_, tick_loop(shared_from_this()), asio::detached);
}

task<> connection::open(std::shared_ptr<connection> c, route to) {
  if (c->closed()) co_return;
  c->peer_ = std::move(to);
  c->phase_ = phase::opening;
  auto request = encode(message::open(c->side_->settings.window));
  auto sent = co_await c->say(std::move(request));
  if (!sent && !c->closed())
    c->fail(close_code::reset,
            fmt::format("cannot send the open request along {}: {}", c->peer_, sent.error().message()), {});
}

void connection::set_opener(route back, const std::shared_ptr<const flow_origin>& origin, std::uint64_t window) {
  peer_ = std::move(back);
  peer_flow_ = origin ? origin->flow : std::string();
  pinned_ = true;
  peer_text_ = describe_peer(peer_, origin);
  peer_window_ = window;
}

task<> connection::accept(std::shared_ptr<connection> c) {
  if (c->closed()) co_return;
  c->phase_ = phase::open;
  c->last_heard_ = clock::now();
  auto answer = encode(message::opened(c->side_->settings.window));
  auto sent = co_await c->say(std::move(answer));
  if (c->closed()) co_return;
  if (!sent) {
    c->fail(close_code::reset, fmt::format("cannot answer the inlet: {}", sent.error().message()), {});
    co_return;
  }
  c->side_->log.debug("{}: {}: open, for {}", c->side_->label, c->describe(), c->peer_text_);
  c->start_pumping();
}

void connection::on_opened(const local_message& m, const message& opened) {
  peer_ = m.return_route;
  peer_flow_ = m.origin ? m.origin->flow : std::string();
  pinned_ = true;  // from now on only the outlet's end reaches this connection
  peer_text_ = describe_peer(peer_, m.origin);
  peer_window_ = opened.value;
  phase_ = phase::open;
  tick_.cancel();  // the open timeout is over: the tick loop turns to keepalives
  side_->log.debug("{}: {}: open, to {}", side_->label, describe(), peer_text_);
  start_pumping();
}

void connection::start_pumping() {
  asio::co_spawn(strand_, read_loop(shared_from_this()), asio::detached);
  if (side_->what == side::kind::outlet) {
    last_said_ = clock::now();
    asio::co_spawn(strand_, tick_loop(shared_from_this()), asio::detached);
  }
}

// ---- the other end's messages -------------------------------------------------------------

task<> connection::receive(std::shared_ptr<connection> c, local_message m) {
  c->handle(std::move(m));
  co_return;
}

void connection::handle(local_message m) {
  if (closed()) return;  // late messages of a connection that has ended
  const std::string_view flow = m.origin ? std::string_view(m.origin->flow) : std::string_view();
  if (pinned_ && flow != peer_flow_) {
    // Flow control lets nobody else reach the worker; this is the connection's own check.
    side_->log.warn("{}: {}: refused a message from {}: only the {}'s end of the connection may send to it",
                    side_->label, describe(), m.origin ? m.origin->description : std::string("this node"),
                    side_->other());
    return;
  }
  auto decoded = decode(m.payload);
  if (!decoded) {
    protocol_error(fmt::format("a message does not decode ({})", decoded.error().message()));
    return;
  }
  const auto& msg = decoded.value();
  last_heard_ = clock::now();
  if (phase_ != phase::open) {
    if (msg.kind == message_kind::opened && phase_ == phase::opening) return on_opened(m, msg);
    if (msg.kind == message_kind::close) return on_close(msg);
    return protocol_error(fmt::format("a {} message before the connection opened", kind_name(msg.kind)));
  }
  switch (msg.kind) {
    case message_kind::data: return on_data(std::move(m.payload), msg.data, msg.value);
    case message_kind::ack: return on_ack(msg.value);
    case message_kind::eof: return on_eof(msg.value);
    case message_kind::close: return on_close(msg);
    case message_kind::ping: return;
    case message_kind::open:
    case message_kind::opened: return protocol_error(fmt::format("an unexpected {} message", kind_name(msg.kind)));
  }
}

void connection::protocol_error(const std::string& what) {
  fail(close_code::protocol, fmt::format("protocol error from the {}: {}", side_->other(), what),
       fmt::format("protocol error: {}", what));
}

void connection::on_data(bytes payload, byte_view data, std::uint64_t offset) {
  if (peer_eof_) return protocol_error("data after the end of the stream");
  if (offset != received_)
    return protocol_error(fmt::format("data at stream position {} where {} was expected", offset, received_));
  const auto size = data.size();
  if (received_ + size - written_ > side_->settings.window)
    return protocol_error(fmt::format("{} bytes unacknowledged, over the window of {}", received_ + size - written_,
                                      side_->settings.window));
  if (size == 0) return;
  received_ += size;
  side_->state->buffered += size;
  if (size < small_chunk) {
    if (outbox_.empty() || !outbox_.back().merged || outbox_.back().size + size > merged_capacity)
      outbox_.push_back(chunk{.merged = true});
    auto& tail = outbox_.back();
    tail.storage.insert(tail.storage.end(), data.begin(), data.end());
    tail.size += size;
  } else {
    // The chunk is written from the message it came in: `data` points into `payload`.
    const auto begin = static_cast<std::size_t>(data.data() - payload.data());
    outbox_.push_back(chunk{std::move(payload), begin, size, false});
  }
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(strand_, write_loop(shared_from_this()), asio::detached);
  }
}

void connection::on_ack(std::uint64_t written) {
  if (written > sent_)
    return protocol_error(fmt::format("an acknowledgement of {} bytes, more than the {} sent", written, sent_));
  if (written <= acked_) return;
  side_->state->unacked -= written - acked_;
  acked_ = written;
  credit_.cancel();  // the read loop may read again
  maybe_finish();
}

void connection::on_eof(std::uint64_t total) {
  if (peer_eof_) return protocol_error("a second end of stream");
  if (total != received_)
    return protocol_error(fmt::format("the end of the stream at {} bytes, after {} arrived", total, received_));
  peer_eof_ = true;
  if (!writing_ && outbox_.empty()) shut_down_output();
}

void connection::on_close(const message& m) {
  side_->log.warn("{}: {}: closed by the {} ({}): {}", side_->label, describe(), side_->other(),
                  portal::describe(m.code), peer_words(m.reason));
  auto nothing = close_now(close_code::stopped, {});
  side_->state->failed += 1;  // after the log line that says why
  asio::co_spawn(strand_, finish_close(shared_from_this(), std::move(nothing)), asio::detached);
}

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
    s.written_ += size;
    s.side_->state->buffered -= size;
    s.side_->state->out += size;
    s.schedule_ack();
  }
  s.writing_ = false;
  if (s.phase_ == phase::open && s.outbox_.empty() && s.peer_eof_ && !s.shut_wr_) s.shut_down_output();
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
  (void)co_await c->say(std::move(payload));  // a ping lost on a broken route: peer_timeout tells
}

// ---- the end ------------------------------------------------------------------------------

void connection::maybe_finish() {
  if (phase_ != phase::open || !read_done_ || acked_ != sent_ || !peer_eof_ || !shut_wr_ || acking_ ||
      ack_sent_ != written_)
    return;
  side_->log.debug("{}: {}: closed, both streams ended ({} bytes in, {} out)", side_->label, describe(), sent_,
                   written_);
  auto nothing = close_now(close_code::stopped, {});
  asio::co_spawn(strand_, finish_close(shared_from_this(), std::move(nothing)), asio::detached);
}

void connection::fail(close_code code, const std::string& what, std::string wire) {
  if (closed()) return;
  // The other end exists once it has answered (inlet) or from the start (outlet).
  const bool tell = !wire.empty() && !peer_.empty() && (phase_ == phase::open || side_->what == side::kind::outlet);
  if (tell)
    side_->log.warn("{}: {}: {}; closing the {}'s end ({})", side_->label, describe(), what, side_->other(),
                    peer_text_);
  else
    side_->log.warn("{}: {}: {}; closing it", side_->label, describe(), what);
  auto message = close_now(code, tell ? std::move(wire) : std::string());
  side_->state->failed += 1;  // after the log line that says why
  asio::co_spawn(strand_, finish_close(shared_from_this(), std::move(message)), asio::detached);
}

task<> connection::stop(std::shared_ptr<connection> c, std::string why) {
  if (c->closed()) co_return;
  const auto& s = *c->side_;
  const bool tell = !c->peer_.empty() && (c->phase_ == phase::open || s.what == side::kind::outlet);
  if (tell)
    s.log.info("{}: {}: {}; closing the {}'s end ({})", s.label, c->describe(), why, s.other(), c->peer_text_);
  else
    s.log.info("{}: {}: {}; closing it", s.label, c->describe(), why);
  auto message = c->close_now(close_code::stopped, tell ? fmt::format("the {} was stopped", s.name()) : std::string());
  s.state->failed += 1;
  co_await finish_close(c, std::move(message));
}

void connection::worker_stopped() {
  worker_gone_ = true;
  if (closed()) return;
  fail(close_code::stopped, "its worker was stopped", fmt::format("the {} was stopped", side_->name()));
}

bytes connection::close_now(close_code code, const std::string& wire) {
  phase_ = phase::closed;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  credit_.cancel();
  tick_.cancel();
  outbox_.clear();
  if (counted_open_) side_->state->open -= 1;
  side_->state->unacked -= sent_ - acked_;
  side_->state->buffered -= received_ - written_;
  side_->remove(self_);
  if (wire.empty()) return {};
  return encode(message::close(code, wire));
}

task<> connection::finish_close(std::shared_ptr<connection> c, bytes close_message) {
  auto control = c->side_->control();
  if (!control) co_return;
  if (!close_message.empty()) (void)co_await c->say(std::move(close_message));
  if (c->worker_started_ && !c->worker_gone_ && is_served(*control, c->self_)) co_await control->stop_worker(c->self_);
}

task<> stop_connections(context& ctx, std::shared_ptr<side> s, std::string why) {
  auto open = s->begin_stop();
  s->log.info("{}: stopping; closing its {} connection{}", s->label, open.size(), open.size() == 1 ? "" : "s");
  for (auto& c : open) {
    auto strand = c->strand();
    co_await asio::co_spawn(strand, connection::stop(c, why), asio::use_awaitable);
  }
  unregister_side(ctx, *s);
  s->release_control();
}

// ---- the worker ---------------------------------------------------------------------------

task<result<>> connection_worker::handle_message(context&, local_message message) {
  auto strand = connection_->strand();
  co_await asio::co_spawn(strand, connection::receive(connection_, std::move(message)), asio::use_awaitable);
  co_return ok();
}

task<> connection_worker::shutdown(context&) {
  asio::post(connection_->strand(), [c = connection_] { c->worker_stopped(); });
  co_return;
}

}  // namespace nodus::portal::detail
