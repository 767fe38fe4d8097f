#include <array>
#include <utility>

#include <spdlog/spdlog.h>

#include "channel_workers.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/core/transport_message.hpp"

namespace nodus::secure_channel {
namespace {

// A forged frame could name any sequence number; trying keys further ahead than this many
// rekeys is refused, so it cannot make the receiver spin (a genuine gap that long ends the
// channel's ability to catch up, and is reported as rejected frames).
constexpr std::uint64_t max_epochs_ahead = 16;

std::string_view describe(frame::kind k) {
  switch (k) {
    case frame::kind::handshake_1: return "handshake message 1";
    case frame::kind::handshake_2: return "handshake message 2";
    case frame::kind::handshake_3: return "handshake message 3";
    default: return "frame";
  }
}

}  // namespace

task<result<>> decryptor::initialize(context& ctx) {
  if (initiator()) {
    // -> e
    auto message = handshake_->write_message({});
    if (!message) co_return message.error();
    auto framed = frame::handshake(0, message.value());
    co_return co_await ctx.send(remote_, std::move(framed));
  }
  counted_pending_ = true;
  ctx.send_after(config_->opts.handshake_timeout, route(ctx.address()), frame::timeout());
  co_return ok();
}

task<> decryptor::shutdown(context&) {
  if (counted_pending_ && config_->listener_state) config_->listener_state->pending.fetch_sub(1);
  counted_pending_ = false;
  config_->channel_state->open.store(false);
  co_return;
}

task<result<>> decryptor::handle_message(context& ctx, local_message message) {
  // The hot path, an encrypted frame, is all this coroutine holds, so that its frame stays
  // small (under glibc's per-thread cache limit, 1 KiB: larger blocks take malloc's slow path);
  // every other frame is handled in handle_other.
  const auto parsed = frame::parse(message.payload);
  if (!parsed || parsed->kind != frame::kind::encrypted) co_return co_await handle_other(ctx, std::move(message));
  auto opened_frame = open_encrypted(ctx, *parsed, message);
  if (opened_frame.what != opened::action::deliver) co_return co_await on_control(ctx, opened_frame.what);
  auto sent = co_await ctx.forward(std::move(opened_frame.message));
  if (!sent)
    ctx.log().info("secure channel {}: message {} could not be delivered: {}", config_->channel_state->encryptor,
                   opened_frame.sequence, sent.error().message());
  co_return ok();
}

task<result<>> decryptor::handle_other(context& ctx, local_message message) {
  auto parsed = frame::parse(message.payload);
  auto& channel = *config_->channel_state;
  if (!parsed) {
    ctx.log().warn("secure channel {}: dropped a frame that does not parse ({} bytes)", channel.decryptor,
                   message.payload.size());
    channel.rejected.fetch_add(1, std::memory_order_release);
    co_return ok();
  }
  switch (parsed->kind) {
    case frame::kind::abort: {
      // The peer's words, unauthenticated: escaped and cut short before they reach a log.
      constexpr std::size_t max_reason = 300;
      auto reason = printable(parsed->body.first(std::min(parsed->body.size(), max_reason)));
      co_return co_await on_abort(ctx, std::move(reason));
    }
    case frame::kind::handshake_timeout:
      if (message.return_route != route(ctx.address())) {  // only we may send it to ourselves
        channel.rejected.fetch_add(1, std::memory_order_release);
        co_return ok();
      }
      if (handshake_) {
        ctx.log().warn("secure channel {}: handshake from {} timed out", channel.decryptor, remote_);
        (void)co_await ctx.stop_worker(ctx.address());
      }
      co_return ok();
    default: co_return co_await on_handshake(ctx, parsed->kind, std::move(message));
  }
}

task<result<>> decryptor::handle_delivery_error(context& ctx, local_message notice) {
  auto& channel = *config_->channel_state;
  auto e = decode_delivery_error(notice.payload);
  const std::string reason = e ? e.value().reason : std::string("(it does not decode)");
  if (e && handshake_ && initiator()) {
    failure why{e.value().code, "the secure channel handshake with " + remote_.to_string() + " failed: " + reason};
    co_return co_await end_handshake(ctx, std::move(why), false);
  }
  ctx.log().info("secure channel {}: ignored an unauthenticated delivery error notice: {}", channel.decryptor, reason);
  co_return ok();
}

task<result<>> decryptor::on_handshake(context& ctx, frame::kind kind, local_message message) {
  auto& channel = *config_->channel_state;
  const int index = static_cast<int>(kind) - static_cast<int>(frame::kind::handshake_1);
  if (!handshake_ || handshake_->writes_next() || handshake_->next_message() != index) {
    ctx.log().warn("secure channel {}: unexpected {} dropped", channel.decryptor, describe(kind));
    channel.rejected.fetch_add(1, std::memory_order_release);
    co_return ok();
  }
  auto body = frame::parse(message.payload)->body;
  auto payload = handshake_->read_message(body);
  if (!payload) {
    remote_ = message.return_route;
    failure why{payload.error(), std::string(describe(kind)) + " from " + message.return_route.to_string() +
                                     " failed: " + payload.error().message()};
    co_return co_await end_handshake(ctx, std::move(why), true);
  }
  if (index == 0 || index == 1) remote_ = message.return_route;  // the way back to the peer
  if (index >= 1) {
    // Messages 2 and 3 carry the peer's identity: verify it and apply our trust policy.
    auto peer = verify_peer(payload.value(), handshake_->remote_static(), config_->opts);
    if (!peer) co_return co_await end_handshake(ctx, peer.error(), true);
    channel.peer = peer.value().id;
    peer_credential_ = peer.value().credential;
    channel.set_peer_credential(peer_credential_);
  }
  if (index == 2) co_return co_await complete_handshake(ctx);  // responder: done

  // Our turn: message 2 (responder) or 3 (initiator), carrying our identity.
  const auto& present = config_->opts.credentials.present;
  config_->presented = present ? present() : nullptr;
  auto ours = detail::access::state(config_->opts.identity)->handshake_payload(config_->presented.get());
  if (!ours) co_return co_await end_handshake(ctx, ours.error(), true);
  auto reply = handshake_->write_message(ours.value());
  if (!reply) {
    failure why{reply.error(),
                "cannot write handshake message " + std::to_string(index + 2) + ": " + reply.error().message()};
    co_return co_await end_handshake(ctx, std::move(why), true);
  }
  auto framed = frame::handshake(index + 1, reply.value());
  if (auto sent = co_await ctx.send(remote_, std::move(framed)); !sent) {
    failure why{sent.error(),
                "cannot send the handshake reply to " + remote_.to_string() + ": " + sent.error().message()};
    co_return co_await end_handshake(ctx, std::move(why), false);
  }
  if (index == 1) co_return co_await complete_handshake(ctx);  // initiator: keys ready
  co_return ok();
}

task<result<>> decryptor::complete_handshake(context& ctx) {
  auto& channel = *config_->channel_state;
  auto transport = handshake_->split();
  handshake_.reset();
  if (!transport) {
    failure why{transport.error(), "cannot derive the channel keys: " + transport.error().message()};
    co_return co_await end_handshake(ctx, std::move(why), true);
  }
  current_.emplace(std::move(transport.value().receive));
  established_ = true;

  std::uint64_t next_sequence = 0;
  if (!initiator()) {
    // Tell the initiator its identity was accepted: the first message of our direction.
    auto sealed = control_frame(transport.value().send, 0, frame::content::confirmed);
    if (!sealed) {
      failure why{sealed.error(), "cannot seal the confirmation"};
      co_return co_await end_handshake(ctx, std::move(why), false);
    }
    local_message out{remote_, route(channel.decryptor), std::move(sealed.value()), {}};
    (void)co_await ctx.forward(std::move(out));
    next_sequence = 1;
  }
  // What this channel delivers comes in by a flow of its own (a child of the listener's): only
  // the workers the listener exposes, and those that send through the channel, see it.
  const auto parent = config_->listener_state ? config_->listener_state->flow : std::string();
  channel.origin = std::make_shared<const flow_origin>(flow_origin{
      context::new_flow("sc."), parent, fmt::format("secure channel {} with {}", channel.encryptor, channel.peer)});
  std::vector<nodus::address> addresses{channel.encryptor, encryptor::close_address(channel.encryptor)};
  encryptor enc(std::move(transport.value().send), next_sequence, remote_, config_);
  auto mailbox = encryptor::mailbox(config_->opts, channel.origin);
  auto started = co_await ctx.start_worker(std::move(addresses), std::move(enc), std::move(mailbox));
  if (!started) {
    failure why{started.error(), "cannot start the encryptor: " + started.error().message()};
    co_return co_await end_handshake(ctx, std::move(why), true);
  }
  if (!initiator()) {
    channel.open.store(true);
    if (counted_pending_) config_->listener_state->pending.fetch_sub(1);
    counted_pending_ = false;
    config_->listener_state->add(config_->channel_state);
    ctx.log().info("secure channel {} established with {} (responder)", channel.encryptor, channel.peer);
  }
  co_return ok();
}

task<result<>> decryptor::end_handshake(context& ctx, failure why, bool tell_peer) {
  auto& channel = *config_->channel_state;
  ctx.log().warn("secure channel {}: handshake failed: {}", channel.decryptor, why.message());
  if (tell_peer && !remote_.empty()) {
    auto framed = frame::abort(why.message());
    (void)co_await ctx.send(remote_, std::move(framed));
  }
  if (initiator()) {
    config_->outcome = std::move(why);
    (void)co_await tell_waiter(ctx);
  }
  if (established_) (void)co_await ctx.stop_worker(channel.encryptor);
  (void)co_await ctx.stop_worker(ctx.address());
  co_return ok();
}

task<result<>> decryptor::tell_waiter(context& ctx) {
  auto waiter = *config_->waiter;
  config_->waiter = nodus::address();  // tell once
  if (waiter.value().empty()) co_return ok();
  co_return co_await ctx.send(route(std::move(waiter)), bytes{});
}

task<result<>> decryptor::on_abort(context& ctx, std::string reason) {
  auto& channel = *config_->channel_state;
  if (!handshake_ && !(initiator() && !channel.open.load())) {
    // An established channel ignores unauthenticated aborts: anyone on the path could forge one.
    channel.rejected.fetch_add(1, std::memory_order_release);
    co_return ok();
  }
  failure why{vault::errc::untrusted_identity, "the peer aborted the handshake: " + reason};
  co_return co_await end_handshake(ctx, std::move(why), false);
}

result<> decryptor::open(std::uint64_t sequence, byte_view header, std::span<std::uint8_t> text_and_tag) {
  const auto epoch = sequence / config_->opts.rekey_interval;
  if (epoch == epoch_) return current_->open_in_place(sequence, header, text_and_tag);
  if (epoch + 1 == epoch_ && previous_) return previous_->open_in_place(sequence, header, text_and_tag);
  if (epoch < epoch_ || epoch - epoch_ > max_epochs_ahead) return vault::errc::authentication_failed;
  // A later epoch: derive its key on a copy and switch only if the frame authenticates.
  auto next = current_->clone();
  if (!next) return next.error();
  std::optional<noise_cipher> before;
  for (auto e = epoch_; e < epoch; ++e) {
    if (e + 1 == epoch) {
      auto copy = next.value().clone();
      if (!copy) return copy.error();
      before.emplace(std::move(copy.value()));
    }
    if (auto rekeyed = next.value().rekey(); !rekeyed) return rekeyed.error();
  }
  if (auto done = next.value().open_in_place(sequence, header, text_and_tag); !done) return done;
  previous_ = std::move(before);
  current_.emplace(std::move(next.value()));
  epoch_ = epoch;
  return ok();
}

// `f` points into `message.payload`, which is decrypted in place and becomes the delivered
// message's payload. Everything up to the one thing to await is done here, outside any
// coroutine: per message the only coroutine frames are handle_message's and forward's.
decryptor::opened decryptor::open_encrypted(context& ctx, frame::parsed f, local_message& message) {
  auto& channel = *config_->channel_state;
  if (!established_) {
    ctx.log().warn("secure channel {}: an encrypted frame before the handshake ended was dropped", channel.decryptor);
    channel.rejected.fetch_add(1, std::memory_order_release);
    return {};
  }
  switch (window_.check(f.sequence)) {
    case replay_window::verdict::duplicate:
      ctx.log().debug("secure channel {}: duplicate of message {} dropped", channel.encryptor, f.sequence);
      channel.duplicates_dropped.fetch_add(1, std::memory_order_release);
      return {};
    case replay_window::verdict::too_old:
      ctx.log().warn("secure channel {}: message {} is older than the replay window and was rejected",
                     channel.encryptor, f.sequence);
      channel.rejected.fetch_add(1, std::memory_order_release);
      return {};
    case replay_window::verdict::fresh: break;
  }
  // Decrypted where it lies: the frame's bytes after the header become the plaintext.
  std::array<std::uint8_t, frame::encrypted_header_size> header;
  std::copy(f.header.begin(), f.header.end(), header.begin());
  auto& wire = message.payload;
  auto text_and_tag = std::span(wire).subspan(frame::encrypted_header_size);
  if (text_and_tag.size() <= vault::aead_tag_size || !open(f.sequence, header, text_and_tag)) {
    ctx.log().warn("secure channel {}: message {} failed authentication and was dropped", channel.encryptor,
                   f.sequence);
    channel.rejected.fetch_add(1, std::memory_order_release);
    return {};
  }
  // Authenticated: only now may the window move.
  const auto was_missing = window_.missing();
  const auto skipped = window_.accept(f.sequence);
  if (skipped > 0) {
    ctx.log().warn("secure channel {}: gap: {} message(s) before message {} from {} have not arrived",
                   channel.encryptor, skipped, f.sequence, channel.peer);
  } else if (window_.missing() < was_missing) {
    ctx.log().info("secure channel {}: message {} arrived late, out of order", channel.encryptor, f.sequence);
  }
  channel.missing.store(window_.missing(), std::memory_order_release);

  // The plaintext: the inner message's wire form, then the content kind.
  const auto text = text_and_tag.first(text_and_tag.size() - vault::aead_tag_size);
  const auto content = static_cast<frame::content>(text.back());
  const auto inner_wire = text.first(text.size() - 1);
  switch (content) {
    case frame::content::confirmed:
      if (initiator() && !channel.open.load()) {
        channel.open.store(true);
        ctx.log().info("secure channel {} established with {} (initiator)", channel.encryptor, channel.peer);
        return {opened::action::confirmed};
      }
      return {};
    case frame::content::close:
      channel.open.store(false);
      ctx.log().info("secure channel {} closed by {}", channel.encryptor, channel.peer);
      return {opened::action::closed};
    case frame::content::credential: on_credential(ctx, inner_wire); return {};
    case frame::content::message: break;
    default: channel.rejected.fetch_add(1, std::memory_order_release); return {};
  }

  decode_limits limits;
  limits.max_payload = config_->opts.max_payload_size;
  // The frame's buffer becomes the payload: its bytes move to the front, nothing is allocated.
  auto inner = decode_transport_message_within(std::move(wire), inner_wire, limits);
  if (!inner || inner.value().onward_route.empty()) {
    ctx.log().warn("secure channel {}: message {} from {} does not decode; dropped", channel.encryptor, f.sequence,
                   channel.peer);
    channel.rejected.fetch_add(1, std::memory_order_release);
    return {};
  }
  if (config_->opts.credentials.verify && !peer_credential_valid(ctx)) {
    channel.rejected.fetch_add(1, std::memory_order_release);
    return {};
  }
  channel.delivered.fetch_add(1, std::memory_order_release);
  opened out{opened::action::deliver, to_local_message(std::move(inner).value()), f.sequence};
  auto& local = out.message;
  local.return_route.prepend(channel.encryptor);
  local.metadata.emplace(identifier_key, channel.peer);
  local.metadata.emplace(channel_key, channel.encryptor.value());
  if (peer_credential_) {
    for (const auto& [name, value] : peer_credential_->attributes)
      local.metadata.emplace(std::string(attribute_key_prefix) + name, value);
  }
  local.origin = channel.origin;
  return out;
}

task<result<>> decryptor::on_control(context& ctx, opened::action what) {
  auto& channel = *config_->channel_state;
  switch (what) {
    case opened::action::confirmed: co_return co_await tell_waiter(ctx);
    case opened::action::closed:
      (void)co_await ctx.stop_worker(channel.encryptor);
      (void)co_await ctx.stop_worker(ctx.address());
      co_return ok();
    default: co_return ok();
  }
}

void decryptor::on_credential(context& ctx, byte_view credential) {
  auto& channel = *config_->channel_state;
  if (!config_->opts.credentials.verify) return;  // this end does not look at credentials
  auto checked = config_->opts.credentials.verify(credential, channel.peer);
  if (!checked) {
    // The one held stays until it expires: a refresh gone wrong is no reason to cut off sooner.
    ctx.log().warn("secure channel {}: a refreshed credential from {} is refused: {}", channel.encryptor, channel.peer,
                   checked.error().message());
    channel.rejected.fetch_add(1, std::memory_order_release);
    return;
  }
  peer_credential_ = std::move(checked).value();
  lapse_logged_ = false;
  channel.set_peer_credential(peer_credential_);
  ctx.log().debug("secure channel {}: {} presented a refreshed credential", channel.encryptor, channel.peer);
}

bool decryptor::peer_credential_valid(context& ctx) {
  auto& channel = *config_->channel_state;
  const auto& clock = config_->opts.credentials.clock;
  const auto now = clock ? clock() : std::chrono::system_clock::now();
  if (peer_credential_ && now < peer_credential_->expires_at) return true;
  if (!lapse_logged_) {
    lapse_logged_ = true;
    ctx.log().warn(
        "secure channel {}: the credential of {} has expired; its messages are dropped until it presents "
        "a fresh one",
        channel.encryptor, channel.peer);
  }
  if (peer_credential_) {
    peer_credential_.reset();
    channel.set_peer_credential(std::nullopt);
  }
  return false;
}

}  // namespace nodus::secure_channel
