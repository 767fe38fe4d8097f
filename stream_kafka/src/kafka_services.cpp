// The hub's stream services. handle_message checks a request and hands it to the Kafka client;
// the reply is sent from the client's thread when Kafka answers (posted onto the node's
// executor), so no handler ever waits for Kafka.

#include "nodus/stream_kafka/services.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "kafka_members.hpp"
#include "nodus/node/extension.hpp"

namespace nodus::stream_kafka {

// Sends replies on behalf of a service, from any thread, until the service shuts down (after
// which the node's executor may be gone, so nothing more is posted). It sends from a detached
// context of its own, released in `close` once no reply is in flight: a worker must not take a
// mailbox with it when the node destroys it.
struct stream_kafka_service::replier : std::enable_shared_from_this<replier> {
  replier(context c, address f) : ctx(std::move(c)), from(std::move(f)), io(io_executor(*ctx)), log(&ctx->log()) {}

  template <class T>
  void send(route to, const T& body) {
    if (to.empty()) return;  // nowhere to answer (logged by the service when the request came in)
    auto payload = message_codec<T>::encode(body);
    std::lock_guard lock(mutex);
    if (!open) return;
    ++in_flight;
    boost::asio::co_spawn(io, deliver(shared_from_this(), std::move(to), std::move(payload)),
                          [log = log](std::exception_ptr e) {
                            if (!e) return;
                            try {
                              std::rethrow_exception(e);
                            } catch (const std::exception& x) {
                              log->error("stream service: sending a reply threw: {}", x.what());
                            }
                          });
  }

  // Stops sending; waits (at most 2 s) for the replies in flight, then lets the context go.
  static task<> close(std::shared_ptr<replier> self) {
    {
      std::lock_guard lock(self->mutex);
      self->open = false;
    }
    boost::asio::steady_timer timer(self->io);
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(self->mutex);
        if (self->in_flight == 0) break;
      }
      timer.expires_after(std::chrono::milliseconds(10));
      boost::system::error_code ec;
      co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    std::optional<context> released;
    {
      std::lock_guard lock(self->mutex);
      if (self->in_flight == 0) released.swap(self->ctx);
    }
  }

  // The test hook's fake confirmations reuse the last real offset of the stream.
  void note_offset(const std::string& stream, std::int64_t offset) {
    std::lock_guard lock(mutex);
    last_offsets[stream] = offset;
  }
  std::int64_t last_offset(const std::string& stream) {
    std::lock_guard lock(mutex);
    auto it = last_offsets.find(stream);
    return it == last_offsets.end() ? 0 : it->second;
  }

  static task<> deliver(std::shared_ptr<replier> self, route to, bytes payload) {
    const auto where = to;
    local_message message;  // built as a named local: a braced temporary inside co_await miscompiles (README)
    message.onward_route = std::move(to);
    message.return_route = route(self->from);
    message.payload = std::move(payload);
    auto sent = co_await self->ctx->forward(std::move(message));
    if (!sent) self->log->debug("{}: reply to {} not delivered: {}", self->from, where, sent.error().message());
    std::lock_guard lock(self->mutex);
    --self->in_flight;
  }

  std::optional<context> ctx;  // a detached context of the service's node, to send from
  address from;
  boost::asio::any_io_executor io;
  spdlog::logger* log;  // the node's
  std::mutex mutex;
  bool open = true;
  std::size_t in_flight = 0;
  std::unordered_map<std::string, std::int64_t> last_offsets;
};

namespace {

using replier = stream_kafka_service::replier;

// The version, kind and request_id of a request that does not decode, when they can be read, so
// that even its error reply can be matched by the client.
struct request_header {
  std::optional<std::uint8_t> version;
  std::uint8_t kind = 0;
  std::uint64_t request_id = 0;
};

request_header peek_header(byte_view payload) {
  request_header header;
  auto handle = nodus::detail::unpack_bounded(payload);
  if (!handle) return header;
  const auto& o = handle.value().get();
  if (o.type != msgpack::type::ARRAY) return header;
  const auto& a = o.via.array;
  const auto uint_at = [&](std::uint32_t i) -> std::optional<std::uint64_t> {
    if (i < a.size && a.ptr[i].type == msgpack::type::POSITIVE_INTEGER) return a.ptr[i].via.u64;
    return std::nullopt;
  };
  if (auto v = uint_at(0); v && *v <= 255) header.version = static_cast<std::uint8_t>(*v);
  if (auto k = uint_at(1); k && *k <= 255) header.kind = static_cast<std::uint8_t>(*k);
  if (auto id = uint_at(2)) header.request_id = *id;
  return header;
}

stream_error undecodable(const request_header& header, std::string_view type) {
  if (header.version && *header.version != protocol_version)
    return {stream_errc::unsupported_version, fmt::format("protocol version {} is not spoken here (this hub speaks {})",
                                                          *header.version, protocol_version)};
  return {stream_errc::bad_request, fmt::format("the request does not decode as a {}", type)};
}

std::optional<stream_error> bad_name(std::string_view what, std::string_view name) {
  if (valid_stream_name(name)) return std::nullopt;
  return stream_error{stream_errc::bad_request,
                      fmt::format("'{}' is not a valid {} (1 to 200 of A-Z a-z 0-9 . _ -, not starting with __)",
                                  printable(as_bytes(name.substr(0, 256))), what)};  // logged: escaped
}

std::shared_ptr<replier> make_replier(context& ctx) {
  return std::make_shared<replier>(ctx.new_detached(ctx.address().value() + ".reply."), ctx.address());
}

}  // namespace

// --- stream_kafka --------------------------------------------------------------------------------

stream_kafka_service::stream_kafka_service(stream_service_options options) : options_(std::move(options)) {}

task<result<>> stream_kafka_service::initialize(context& ctx) {
  if (!options_.kafka) co_return errc::worker_failed;
  if (options_.members && !options_.members->owners) co_return errc::worker_failed;
  replier_ = make_replier(ctx);
  if (options_.members) {
    options_.members->owners->load();
    ctx.log().info("{}: members only; callers must be allowed by {}", ctx.address(), options_.members->allow.text());
  }
  co_return ok();
}

task<> stream_kafka_service::shutdown(context&) {
  if (replier_) co_await replier::close(replier_);
}

task<result<>> stream_kafka_service::handle_message(context& ctx, local_message message) {
  auto request = message_codec<stream_request>::decode(message.payload);
  if (request) {
    const auto who = options_.members ? detail::caller(message) : policy::subject{};
    handle(ctx, std::move(request).value(), std::move(message.return_route), who);
    co_return ok();
  }
  const auto header = peek_header(message.payload);
  stream_reply reply;
  reply.kind = static_cast<stream_request::kind_t>(header.kind);
  reply.request_id = header.request_id;
  reply.error = undecodable(header, "stream_request");
  ctx.log().debug("{}: {} bytes from {}: {}", ctx.address(), message.payload.size(), message.return_route,
                  reply.error.reason);
  replier_->send(std::move(message.return_route), reply);
  co_return ok();
}

void stream_kafka_service::handle(context& ctx, stream_request request, route reply_to, const policy::subject& who) {
  stream_reply reply;
  reply.kind = request.kind;
  reply.request_id = request.request_id;
  reply.stream = request.stream;
  using kind = stream_request::kind_t;
  if (request.version != protocol_version) {
    reply.error = undecodable({request.version}, "stream_request");
  } else if (request.kind != kind::create && request.kind != kind::push && request.kind != kind::pull &&
             request.kind != kind::readers && request.kind != kind::push_batch) {
    reply.error = {stream_errc::bad_request, fmt::format("unknown request kind {}", static_cast<int>(request.kind))};
  } else if (auto bad = bad_name("stream name", request.stream)) {
    reply.error = std::move(*bad);
  } else if (request.kind == kind::pull && request.index < 0) {
    reply.error = {stream_errc::bad_request, fmt::format("a pull from a negative index ({})", request.index)};
  } else if (request.kind == kind::pull && request.limit == 0) {
    reply.error = {stream_errc::bad_request, "a pull with limit 0"};
  } else if (request.kind == kind::push && request.data.size() > options_.max_message_size) {
    reply.error = {stream_errc::too_large,
                   fmt::format("a push of {} bytes (at most {} here)", request.data.size(), options_.max_message_size)};
  } else if (auto bad_push = request.kind == kind::push_batch ? bad_batch(request) : std::nullopt) {
    reply.error = std::move(*bad_push);
  } else if (auto refused = refusal(request, who)) {
    reply.error = std::move(*refused);
  }
  if (reply.error) {
    // What a members-only hub refuses is said where its operator looks.
    ctx.log().log(reply.error.code == stream_errc::forbidden ? spdlog::level::warn : spdlog::level::debug,
                  "{}: request {} from {} refused: {}", ctx.address(), request.request_id,
                  who.identifier.empty() ? fmt::format("{}", reply_to) : who.identifier, reply.error.reason);
    return replier_->send(std::move(reply_to), reply);
  }
  auto r = replier_;
  switch (request.kind) {
    case kind::readers: {
      // From the reader's memory: asking creates nothing and waits for nothing.
      readers_reply answer;
      static_cast<stream_reply&>(answer) = std::move(reply);
      answer.readers = options_.kafka->readers(request.stream);
      return replier_->send(std::move(reply_to), answer);
    }
    case kind::create: create(std::move(request), std::move(reply), std::move(reply_to), who.identifier); break;
    case kind::push: push(ctx, std::move(request), std::move(reply), std::move(reply_to)); break;
    case kind::push_batch: push_batch(ctx, std::move(request), std::move(reply), std::move(reply_to)); break;
    case kind::pull: {
      const auto wait = std::min(std::chrono::milliseconds(request.wait_ms), options_.max_pull_wait);
      options_.kafka->fetch(
          request.stream, request.index, request.limit, options_.max_pull_bytes, wait,
          [r, to = std::move(reply_to), reply](std::vector<stream_message> messages, stream_error error) mutable {
            reply.messages = std::move(messages);
            reply.error = std::move(error);
            r->send(std::move(to), reply);
          });
      break;
    }
  }
}

std::optional<stream_error> stream_kafka_service::refusal(const stream_request& request, const policy::subject& who) {
  if (!options_.members) return std::nullopt;
  const auto& members = *options_.members;
  if (auto refused = detail::refuse_caller(members, who, "stream service")) return refused;
  if (request.kind != stream_request::kind_t::create)
    return detail::refuse_access(members, request.stream, who.identifier);
  if (auto bad = detail::bad_parties(request.parties)) return bad;
  return members.owners->not_ready();
}

// In members-only mode the stream is claimed (and the claim recorded) before its topic is made,
// so a topic made here always has an owner, and a failed claim makes nothing.
void stream_kafka_service::create(stream_request request, stream_reply reply, route reply_to, const std::string& who) {
  auto make = [kafka = options_.kafka, r = replier_, stream = request.stream, to = std::move(reply_to), reply,
               who](stream_error claimed) mutable {
    if (claimed) {
      if (claimed.code == stream_errc::forbidden)  // said where the hub's operator looks, as other refusals
        r->log->warn("{}: request {} from {} refused: {}", r->from, reply.request_id, who, claimed.reason);
      reply.error = std::move(claimed);
      return r->send(std::move(to), reply);
    }
    kafka->create_stream(stream, [r, to = std::move(to), reply](stream_error error) mutable {
      reply.error = std::move(error);
      r->send(std::move(to), reply);
    });
  };
  if (!options_.members) return make({});
  options_.members->owners->claim(request.stream, who, std::move(request.parties), std::move(make));
}

void stream_kafka_service::push(context& ctx, stream_request request, stream_reply reply, route reply_to) {
  ++pushes_;
  const bool hooked = options_.test_drop_push != 0;
  if (hooked && pushes_ == options_.test_drop_push) {
    ctx.log().warn("{}: test hook: push #{} to '{}' ({} bytes) dropped: confirmed but never written", ctx.address(),
                   pushes_, request.stream, request.data.size());
    reply.index = replier_->last_offset(request.stream);
    return replier_->send(std::move(reply_to), reply);
  }
  options_.kafka->produce(
      request.stream, std::move(request.data),
      [r = replier_, to = std::move(reply_to), reply, hooked](std::int64_t offset, stream_error error) mutable {
        reply.index = error ? -1 : offset;
        reply.error = std::move(error);
        if (hooked && !reply.error) r->note_offset(reply.stream, offset);
        r->send(std::move(to), reply);
      });
}

std::optional<stream_error> stream_kafka_service::bad_batch(const stream_request& request) const {
  if (request.records.empty()) return stream_error{stream_errc::bad_request, "a push_batch with no messages"};
  if (request.records.size() > stream::max_push_batch)
    return stream_error{stream_errc::bad_request, fmt::format("a push_batch of {} messages (at most {})",
                                                              request.records.size(), stream::max_push_batch)};
  std::size_t total = 0;
  for (const auto& record : request.records) {
    if (record.size() > options_.max_message_size)
      return stream_error{stream_errc::too_large, fmt::format("a message of {} bytes in a push_batch (at most {} here)",
                                                              record.size(), options_.max_message_size)};
    total += record.size();
  }
  if (total > options_.max_batch_size)
    return stream_error{stream_errc::too_large,
                        fmt::format("a push_batch of {} bytes (at most {} here)", total, options_.max_batch_size)};
  return std::nullopt;
}

// Each message is produced as a record of its own, in order (the producer is idempotent, so the
// broker keeps them in that order and writes none twice: kafka_client.cpp); the reply goes once
// the broker has acknowledged them all, with the last one's offset, or with the first error
// (the client then pushes the whole batch again: what was written appears twice in a row, and
// the secure channel on top drops the second copy as a replay).
void stream_kafka_service::push_batch(context& ctx, stream_request request, stream_reply reply, route reply_to) {
  struct gathering {
    std::mutex mutex;
    std::size_t left = 0;
    stream_reply reply;
    route to;
  };
  auto g = std::make_shared<gathering>();
  g->reply = std::move(reply);
  g->to = std::move(reply_to);
  g->left = request.records.size();
  auto r = replier_;
  auto one_done = [g, r](std::int64_t offset, stream_error error) {
    std::unique_lock lock(g->mutex);
    if (error && !g->reply.error) g->reply.error = std::move(error);
    if (!error) g->reply.index = std::max(g->reply.index, offset);
    if (--g->left > 0) return;
    if (g->reply.error) g->reply.index = -1;
    lock.unlock();
    r->send(std::move(g->to), g->reply);
  };
  const bool hooked = options_.test_drop_push != 0;
  for (auto& record : request.records) {
    if (++pushes_ == options_.test_drop_push && hooked) {
      ctx.log().warn("{}: test hook: push #{} to '{}' ({} bytes) dropped: confirmed but never written", ctx.address(),
                     pushes_, request.stream, record.size());
      one_done(replier_->last_offset(request.stream), {});
      continue;
    }
    std::function<void(std::int64_t, stream_error)> done = one_done;
    if (hooked)
      done = [one_done, r, stream = request.stream](std::int64_t offset, stream_error error) {
        if (!error) r->note_offset(stream, offset);
        one_done(offset, std::move(error));
      };
    options_.kafka->produce(request.stream, std::move(record), std::move(done));
  }
}

// --- stream_kafka_index --------------------------------------------------------------------------

stream_kafka_index_service::stream_kafka_index_service(index_service_options options) : options_(std::move(options)) {}

task<result<>> stream_kafka_index_service::initialize(context& ctx) {
  if (!options_.kafka) co_return errc::worker_failed;
  if (options_.members && !options_.members->owners) co_return errc::worker_failed;
  replier_ = make_replier(ctx);
  if (options_.members) options_.members->owners->load();
  co_return ok();
}

task<> stream_kafka_index_service::shutdown(context&) {
  if (replier_) co_await replier::close(replier_);
}

task<result<>> stream_kafka_index_service::handle_message(context& ctx, local_message message) {
  auto request = message_codec<index_request>::decode(message.payload);
  if (request) {
    const auto who = options_.members ? detail::caller(message) : policy::subject{};
    handle(std::move(request).value(), std::move(message.return_route), who);
    co_return ok();
  }
  const auto header = peek_header(message.payload);
  index_reply reply;
  reply.kind = static_cast<index_request::kind_t>(header.kind);
  reply.request_id = header.request_id;
  reply.error = undecodable(header, "index_request");
  ctx.log().debug("{}: {} bytes from {}: {}", ctx.address(), message.payload.size(), message.return_route,
                  reply.error.reason);
  replier_->send(std::move(message.return_route), reply);
  co_return ok();
}

void stream_kafka_index_service::handle(index_request request, route reply_to, const policy::subject& who) {
  index_reply reply;
  reply.kind = request.kind;
  reply.request_id = request.request_id;
  reply.stream = request.stream;
  reply.client_id = request.client_id;
  using kind = index_request::kind_t;
  if (request.version != protocol_version) {
    reply.error = undecodable({request.version}, "index_request");
  } else if (request.kind != kind::get && request.kind != kind::save) {
    reply.error = {stream_errc::bad_request, fmt::format("unknown request kind {}", static_cast<int>(request.kind))};
  } else if (auto bad = bad_name("stream name", request.stream)) {
    reply.error = std::move(*bad);
  } else if (auto bad_client = bad_name("client id", request.client_id)) {
    reply.error = std::move(*bad_client);
  } else if (request.kind == kind::save && request.index < 0) {
    reply.error = {stream_errc::bad_request, fmt::format("a negative index ({})", request.index)};
  } else if (options_.members) {
    auto refused = detail::refuse_caller(*options_.members, who, "index service");
    if (!refused) refused = detail::refuse_access(*options_.members, request.stream, who.identifier);
    if (refused) reply.error = std::move(*refused);
  }
  if (reply.error) {
    if (reply.error.code == stream_errc::forbidden && replier_->log)
      replier_->log->warn("{}: request {} from {} refused: {}", replier_->from, request.request_id,
                          who.identifier.empty() ? "an unauthenticated sender" : who.identifier, reply.error.reason);
    return replier_->send(std::move(reply_to), reply);
  }

  auto group = detail::index_group(options_.members.has_value(), who.identifier, request.client_id);
  if (request.kind == kind::get) {
    options_.kafka->load_offset(
        std::move(group), request.stream,
        [r = replier_, to = std::move(reply_to), reply](std::int64_t offset, stream_error error) mutable {
          reply.index = std::max<std::int64_t>(offset, 0);  // none saved: from the start
          reply.error = std::move(error);
          r->send(std::move(to), reply);
        });
  } else {
    reply.index = request.index;
    options_.kafka->save_offset(std::move(group), request.stream, request.index,
                                [r = replier_, to = std::move(reply_to), reply](stream_error error) mutable {
                                  reply.error = std::move(error);
                                  r->send(std::move(to), reply);
                                });
  }
}

}  // namespace nodus::stream_kafka
