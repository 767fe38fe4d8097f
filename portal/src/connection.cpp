// One end of a portal connection: opening, the messages of the other end (receive), and the
// ways it ends; its socket's two directions are in connection_io.cpp. Every function here runs
// on the connection's strand, so its state needs no lock.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "connection.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "nodus/node/extension.hpp"

namespace nodus::portal::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t small_chunk = 4096;           // smaller chunks are copied together
constexpr std::size_t merged_capacity = 64 * 1024;  // into buffers of up to this much
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
      tick_(strand_) {
  if (side_->filter) filter_ = side_->filter(endpoint_);
}

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
  // Data for the filter: taken in here, awaited, so the next message waits for it (stream order).
  if (c->filtering_) {
    auto d = std::move(*c->filtering_);
    c->filtering_.reset();
    co_await on_filtered_data(c, std::move(d));
  }
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
    case message_kind::data:
      if (filter_) {
        filtering_ = filtered_data{std::move(m.payload), msg.data, msg.value};  // `data` points into the payload
        return;
      }
      return on_data(std::move(m.payload), msg.data, msg.value);
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

bool connection::data_allowed(std::size_t size, std::uint64_t offset) {
  if (peer_eof_) {
    protocol_error("data after the end of the stream");
    return false;
  }
  if (offset != received_) {
    protocol_error(fmt::format("data at stream position {} where {} was expected", offset, received_));
    return false;
  }
  if (received_ + size - written_ > side_->settings.window) {
    protocol_error(fmt::format("{} bytes unacknowledged, over the window of {}", received_ + size - written_,
                               side_->settings.window));
    return false;
  }
  return true;
}

void connection::on_data(bytes payload, byte_view data, std::uint64_t offset) {
  const auto size = data.size();
  if (!data_allowed(size, offset) || size == 0) return;
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
  start_writing();
}

void connection::start_writing() {
  if (writing_) return;
  writing_ = true;
  asio::co_spawn(strand_, write_loop(shared_from_this()), asio::detached);
}

task<> connection::on_filtered_data(std::shared_ptr<connection> c, filtered_data d) {
  const auto size = d.data.size();
  if (c->closed() || !c->data_allowed(size, d.offset) || size == 0) co_return;
  c->received_ += size;
  c->side_->state->buffered += size;
  auto out = co_await c->filter_->to_socket(d.data);
  if (c->closed()) co_return;
  if (!out) {
    const auto why = out.error().message();
    c->fail(close_code::protocol, why, why);
    co_return;
  }
  c->queue_filtered(std::move(out.value()));
}

void connection::queue_filtered(bytes out) {
  if (out.empty()) {  // all taken in, nothing to write yet: acknowledged with what is queued
    if (!outbox_.empty())
      outbox_.back().input_end = received_;
    else if (!writing_) {
      note_written(received_);
      schedule_ack();
    }  // else the write loop acknowledges it when it finds the outbox empty
    return;
  }
  const auto size = out.size();
  outbox_.push_back(chunk{std::move(out), 0, size, false, received_});
  start_writing();
}

void connection::note_written(std::uint64_t upto) {
  if (upto <= written_) return;
  side_->state->buffered -= upto - written_;
  written_ = upto;
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
