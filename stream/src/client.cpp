// connect_stream and disconnect_stream, the handle users keep, and what both processors share.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client_workers.hpp"
#include "nodus/core/random.hpp"

namespace nodus::stream {

namespace detail {

std::error_code to_error_code(stream_errc e) noexcept {
  switch (e) {
    case stream_errc::none: return {};
    case stream_errc::bad_request: return errc::malformed;
    case stream_errc::unsupported_version: return errc::unsupported_version;
    case stream_errc::unknown_stream: return errc::unknown_address;
    case stream_errc::kafka_unavailable: return errc::timeout;
    case stream_errc::too_large: return errc::too_large;
    case stream_errc::forbidden: return errc::access_denied;
    case stream_errc::internal: break;
  }
  return errc::worker_failed;
}

std::string describe(const stream_error& e) {
  static constexpr std::string_view names[] = {"none",           "bad_request",       "unsupported_version",
                                               "unknown_stream", "kafka_unavailable", "too_large",
                                               "internal",       "forbidden"};
  const auto code = static_cast<std::size_t>(e.code);
  const std::string_view name = code < std::size(names) ? names[code] : "unknown error";
  // The hub's words: escaped and cut short, since they end up in this node's log.
  constexpr std::size_t max_reason = 300;
  if (e.reason.empty()) return std::string(name);
  return fmt::format("{}: {}", name, printable(as_bytes(std::string_view(e.reason).substr(0, max_reason))));
}

bool valid_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 200 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

route service_route(const route& to_hub, const std::string& service) {
  route out = to_hub;
  out.append(address(service));
  return out;
}

namespace {
// The fields of stream_request in MSGPACK_DEFINE order up to `data`, whose bin header is
// written for `data_size` bytes (the caller appends them).
void pack_request_head(msgpack::packer<nodus::detail::byte_writer>& packer, std::uint32_t fields,
                       stream_request::kind_t kind, std::uint64_t request_id, const std::string& stream,
                       std::size_t data_size) {
  packer.pack_array(fields);
  packer.pack(protocol_version);
  packer.pack(kind);
  packer.pack(request_id);
  packer.pack(stream);
  packer.pack_bin(static_cast<std::uint32_t>(data_size));
}
void pack_request_tail(msgpack::packer<nodus::detail::byte_writer>& packer) {
  packer.pack(std::int64_t{0});   // index
  packer.pack(std::uint32_t{0});  // limit
  packer.pack(std::uint32_t{0});  // wait_ms
}
}  // namespace

bytes encode_push(std::uint64_t request_id, const std::string& stream, const transport_message& message) {
  // The eight fields before `parties` (which only a create has), the message's wire form written
  // straight into `data` (the payload is copied once).
  bytes out;
  const std::span<const address> onward(message.onward_route.begin(), message.onward_route.size());
  const std::span<const address> back(message.return_route.begin(), message.return_route.size());
  const auto data_size = encoded_size(onward, back, message.payload.size());
  out.reserve(data_size + stream.size() + 32);
  nodus::detail::byte_writer writer{out};
  msgpack::packer<nodus::detail::byte_writer> packer(writer);
  pack_request_head(packer, 8, stream_request::kind_t::push, request_id, stream, data_size);
  encode_append(message, out);
  pack_request_tail(packer);
  return out;
}

bytes encode_push_batch(std::uint64_t request_id, const std::string& stream,
                        const std::vector<transport_message>& messages) {
  bytes out;
  std::size_t total = 0;
  std::vector<std::size_t> sizes;
  sizes.reserve(messages.size());
  for (const auto& m : messages) {
    sizes.push_back(encoded_size(std::span<const address>(m.onward_route.begin(), m.onward_route.size()),
                                 std::span<const address>(m.return_route.begin(), m.return_route.size()),
                                 m.payload.size()));
    total += sizes.back() + 5;  // a bin header
  }
  out.reserve(total + stream.size() + 48);
  nodus::detail::byte_writer writer{out};
  msgpack::packer<nodus::detail::byte_writer> packer(writer);
  pack_request_head(packer, 10, stream_request::kind_t::push_batch, request_id, stream, 0);
  pack_request_tail(packer);
  packer.pack_array(0);  // parties
  packer.pack_array(static_cast<std::uint32_t>(messages.size()));
  for (std::size_t i = 0; i < messages.size(); ++i) {
    packer.pack_bin(static_cast<std::uint32_t>(sizes[i]));
    encode_append(messages[i], out);
  }
  return out;
}

task<result<stream_reply>> create_stream(context& ctx, context& via, route service, std::string stream,
                                         std::vector<std::string> parties, std::uint64_t request_id, duration timeout,
                                         duration slice) {
  stream_request request;
  request.kind = stream_request::kind_t::create;
  request.request_id = request_id;
  request.stream = std::move(stream);
  request.parties = std::move(parties);
  auto encoded = message_codec<stream_request>::encode(request);
  co_return co_await exchange<stream_reply>(ctx, via, std::move(service), request_id, std::move(encoded), timeout,
                                            slice);
}

// Both write the log line before the status changes, so whoever sees the new state also finds
// the line that explains it. Each side has one worker, the only caller for that side.
void client_state::failed(context& ctx, stream_status::state stream_status::*side, std::string_view what,
                          std::string error) {
  bool changed = false;
  {
    std::lock_guard lock(mutex);
    changed = status.*side == stream_status::state::connected;
  }
  if (changed)
    ctx.log().warn("stream client '{}': {} failed ({}); retrying with back-off", options.client_id, what, error);
  else
    ctx.log().debug("stream client '{}': {} failed again ({})", options.client_id, what, error);
  std::lock_guard lock(mutex);
  if (changed) status.*side = stream_status::state::retrying;
  ++status.retries;
  status.last_error = fmt::format("{}: {}", what, error);
}

void client_state::succeeded(context& ctx, stream_status::state stream_status::*side, std::string_view what) {
  bool changed = false;
  {
    std::lock_guard lock(mutex);
    changed = status.*side == stream_status::state::retrying;
  }
  if (!changed) return;
  ctx.log().info("stream client '{}': {} works again", options.client_id, what);
  std::lock_guard lock(mutex);
  status.*side = stream_status::state::connected;
}

}  // namespace detail

const address& connected_stream::sender() const noexcept { return state_->sender; }
const address& connected_stream::receiver() const noexcept { return state_->receiver; }
const std::string& connected_stream::sender_name() const noexcept { return state_->sender_stream; }
const std::string& connected_stream::receiver_name() const noexcept { return state_->receiver_stream; }
const std::string& connected_stream::client_id() const noexcept { return state_->options.client_id; }
const std::string& connected_stream::flow() const noexcept { return state_->origin->flow; }

stream_status connected_stream::status() const {
  std::lock_guard lock(state_->mutex);
  return state_->status;
}

std::string unique_name(std::string_view prefix) {
  // 128 bits from the CSPRNG: until streams have owners, whoever knows a stream's name can push
  // to it and pull from it, so the name must not be guessable.
  return random_hex(fmt::format("{}_", prefix), 16);
}

namespace {

using clock = std::chrono::steady_clock;

// A hub error that asking again will not cure.
bool permanent(stream_errc e) {
  return e == stream_errc::bad_request || e == stream_errc::too_large || e == stream_errc::unsupported_version ||
         e == stream_errc::forbidden;
}

// Sends one request of connect_stream again and again (same request id, so a late answer to an
// earlier attempt counts) until it is answered without error, fails for good, or `deadline`.
template <class Reply>
task<result_or_failure<Reply>> insist(context& via, route to, std::uint64_t id, bytes request, std::string what,
                                      clock::time_point deadline, client_options options) {
  detail::backoff wait(options.retry_backoff, options.max_retry_backoff);
  for (;;) {
    const auto left = std::chrono::duration_cast<duration>(deadline - clock::now());
    const auto timeout = std::clamp(left, duration(1), options.reply_timeout);
    auto reply = co_await detail::exchange<Reply>(via, via, to, id, request, timeout, timeout);
    failure last;
    if (reply && !reply.value().error) co_return std::move(reply).value();
    if (reply) {
      last = failure(detail::to_error_code(reply.value().error.code),
                     fmt::format("{}: the hub says {}", what, detail::describe(reply.value().error)));
      if (permanent(reply.value().error.code)) co_return last;
    } else {
      last = failure(reply.error(), fmt::format("{}: {}", what, reply.error().message()));
    }
    const auto pause = wait.next();
    if (clock::now() + pause >= deadline) co_return last;
    if (auto slept = co_await via.sleep(pause); !slept) co_return last;
  }
}

task<result_or_failure<std::int64_t>> prepare(context& via, std::shared_ptr<detail::client_state> state) {
  const auto& o = state->options;
  const auto deadline = clock::now() + o.connect_timeout;
  std::uint64_t id = 0;
  const std::array<std::string, 2> names{state->sender_stream, state->receiver_stream};
  for (const auto& name : names) {
    stream_request create;
    create.kind = stream_request::kind_t::create;
    create.request_id = ++id;
    create.stream = name;
    create.parties = o.parties;
    auto encoded = message_codec<stream_request>::encode(create);
    auto what = fmt::format("creating stream '{}' at {}", name, state->stream_service);
    auto created =
        co_await insist<stream_reply>(via, state->stream_service, id, std::move(encoded), std::move(what), deadline, o);
    if (!created) co_return created.error();
  }
  index_request get;
  get.kind = index_request::kind_t::get;
  get.request_id = ++id;
  get.stream = state->receiver_stream;
  get.client_id = o.client_id;
  auto encoded = message_codec<index_request>::encode(get);
  auto what = fmt::format("reading the index of '{}' for '{}' at {}", get.stream, get.client_id, state->index_service);
  auto index =
      co_await insist<index_reply>(via, state->index_service, id, std::move(encoded), std::move(what), deadline, o);
  if (!index) co_return index.error();
  co_return index.value().index;
}

result_or_failure<> check(const std::string& sender_name, const std::string& receiver_name, const client_options& o) {
  for (const auto* name : {&sender_name, &receiver_name, &o.client_id})
    if (!detail::valid_name(*name))
      return fail(errc::invalid_address, fmt::format("stream client: '{}' is not a valid stream name or client id "
                                                     "(1 to 200 letters, digits, '.', '_', '-')",
                                                     *name));
  if (o.pull_limit == 0) return fail(errc::not_supported, "stream client: pull_limit must be at least 1");
  if (o.parties.size() > max_stream_parties)
    return fail(errc::too_large, fmt::format("stream client: at most {} parties", max_stream_parties));
  if (o.stream_service.empty() || o.index_service.empty())
    return fail(errc::empty_route, "stream client: stream_service and index_service must name the hub's services");
  return ok();
}

}  // namespace

task<result_or_failure<connected_stream>> connect_stream(context& ctx, route to_hub, std::string sender_name,
                                                         std::string receiver_name, client_options options) {
  if (options.client_id.empty()) options.client_id = unique_name("client");
  if (auto checked = check(sender_name, receiver_name, options); !checked) co_return checked.error();

  auto state = std::make_shared<detail::client_state>();
  state->stream_service = detail::service_route(to_hub, options.stream_service);
  state->index_service = detail::service_route(to_hub, options.index_service);
  state->sender_stream = std::move(sender_name);
  state->receiver_stream = std::move(receiver_name);
  state->sender = address::random_local("stream_sender.");
  state->receiver = address::random_local("stream_receiver.");
  state->origin = std::make_shared<const flow_origin>(
      flow_origin{context::new_flow("stream."),
                  {},
                  fmt::format("stream '{}' at {}", state->receiver_stream, state->stream_service)});
  state->options = std::move(options);

  std::int64_t index = 0;
  {
    context via = ctx.new_detached("stream.connect.");
    auto prepared = co_await prepare(via, state);
    if (!prepared) co_return prepared.error();
    index = prepared.value();
  }
  state->update([index](stream_status& s) { s.index = s.saved_index = index; });

  for (const auto& worker : state->options.expose) ctx.expose(state->origin->flow, worker);
  auto receiver = std::make_shared<detail::stream_receiver>(state, index);
  if (auto started = co_await ctx.start_processor_ptr(state->receiver, receiver); !started)
    co_return fail(started.error(), "stream client: cannot start the receiver: " + started.error().message());
  auto sender = std::make_shared<detail::stream_sender>(state);
  worker_options buffer;
  buffer.mailbox_capacity = state->options.buffer_capacity;
  buffer.produces = state->origin;  // who sends through the stream gets the replies
  if (auto started = co_await ctx.start_processor_ptr(state->sender, sender, std::move(buffer)); !started) {
    (void)co_await ctx.stop_worker(state->receiver);
    co_return fail(started.error(), "stream client: cannot start the sender: " + started.error().message());
  }
  ctx.log().info("stream client '{}': connected to {}; sender '{}' pushes to '{}', receiver '{}' pulls '{}' from {}",
                 state->options.client_id, to_hub, state->sender, state->sender_stream, state->receiver,
                 state->receiver_stream, index);
  co_return connected_stream(std::move(state));
}

task<result_or_failure<stream_readers>> ask_readers(context& ctx, connected_stream stream) {
  const auto& state = *stream.state_;
  const auto what = fmt::format("asking {} who reads '{}'", state.stream_service, state.sender_stream);
  stream_request request;
  request.kind = stream_request::kind_t::readers;
  request.request_id = 1;  // a context of its own: no other request to tell apart
  request.stream = state.sender_stream;
  auto encoded = message_codec<stream_request>::encode(request);
  context via = ctx.new_detached("stream.readers.");
  const auto timeout = state.options.reply_timeout;
  // In slices, so that a processor asking (Alice's watcher) stops at once when it is stopped.
  const auto slice = std::min<duration>(timeout, std::chrono::milliseconds(200));
  auto reply = co_await detail::exchange<readers_reply>(ctx, via, state.stream_service, request.request_id,
                                                        std::move(encoded), timeout, slice);
  if (!reply) co_return fail(reply.error(), fmt::format("{}: {}", what, reply.error().message()));
  const auto& answer = reply.value();
  if (answer.error.code == stream_errc::bad_request)  // what an older hub says to a request it does not know
    co_return fail(errc::not_supported,
                   fmt::format("{}: the hub does not tell ({})", what, detail::describe(answer.error)));
  if (answer.error)
    co_return fail(detail::to_error_code(answer.error.code),
                   fmt::format("{}: the hub says {}", what, detail::describe(answer.error)));
  // The hub's numbers, kept within sense: a day is "long ago", below -1 is "none".
  constexpr std::int64_t a_day_ms = 24 * 3600 * 1000;
  stream_readers out;
  out.waiting = answer.readers.waiting;
  if (answer.readers.last_pull_ms >= 0) out.since_last_pull = duration(std::min(answer.readers.last_pull_ms, a_day_ms));
  out.read_to = std::max<std::int64_t>(answer.readers.read_to, -1);
  co_return out;
}

task<result<>> disconnect_stream(context& ctx, connected_stream stream) {
  auto sender = co_await ctx.stop_worker(stream.sender());
  auto receiver = co_await ctx.stop_worker(stream.receiver());
  // Only once the receiver has stopped: a message it is still delivering must not be refused
  // (and skipped past, its index saved) for want of the exposure.
  ctx.unexpose_flow(stream.flow());
  if (!sender) co_return sender.error();
  co_return receiver;
}

}  // namespace nodus::stream
