#include <utility>

#include <spdlog/spdlog.h>

#include "channel_workers.hpp"
#include "nodus/core/transport_message.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::secure_channel {

byte_view handshake_prologue() {
  static constexpr std::string_view prologue = "nodus.secure_channel.v1";
  return as_bytes(prologue);
}

nodus::address random_address(std::string_view prefix) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text(prefix);
  for (auto b : vault::random_bytes(8)) {
    text.push_back(digits[b >> 4]);
    text.push_back(digits[b & 0xf]);
  }
  return nodus::address(std::move(text));
}

bytes start_frame(std::size_t plaintext_size) {
  bytes frame;
  frame.reserve(frame::encrypted_header_size + plaintext_size + vault::aead_tag_size);
  frame.resize(frame::encrypted_header_size);
  return frame;
}

result<> seal_frame(noise_cipher& cipher, std::uint64_t sequence, bytes& frame) {
  frame.resize(frame.size() + vault::aead_tag_size);  // within the capacity start_frame reserved
  const auto whole = std::span(frame);
  const auto header = whole.first<frame::encrypted_header_size>();
  frame::write_encrypted_header(sequence, header);
  // The header, written in place, is the associated data; the plaintext after it is sealed where it lies.
  return cipher.seal_in_place(sequence, header, whole.subspan(frame::encrypted_header_size));
}

result<bytes> control_frame(noise_cipher& cipher, std::uint64_t sequence, frame::content what) {
  auto frame = start_frame(1);
  frame.push_back(static_cast<std::uint8_t>(what));
  if (auto sealed = seal_frame(cipher, sequence, frame); !sealed) return sealed.error();
  return frame;
}

nodus::address encryptor::close_address(const nodus::address& channel) {
  return nodus::address(channel.type(), std::string(channel.value()) + ".close");
}

worker_options encryptor::mailbox(const options& o, std::shared_ptr<const flow_origin> origin) {
  worker_options w;
  w.reach = reach::this_node_only;
  w.produces = std::move(origin);
  w.access = incoming_access_control(
      [max = o.max_payload_size](const local_message& m) -> std::string {
        if (m.payload.size() <= max) return {};
        return "a payload of " + std::to_string(m.payload.size()) + " bytes is over the secure channel's limit of " +
               std::to_string(max);
      },
      nodus::errc::too_large);
  return w;
}

task<result<>> encryptor::handle_message(context& ctx, local_message message) {
  // Only the awaits are here, so that this coroutine's frame stays small (glibc's per-thread
  // cache takes blocks up to 1 KiB; larger ones take malloc's slow path): the work is in
  // seal_message.
  if (message.onward_route.next() == close_at_) co_return co_await close(ctx);
  if (message.onward_route.size() < 2) {  // only ourselves
    ctx.log().warn("secure channel {}: a message with nowhere to go after the channel was dropped",
                   config_->channel_state->encryptor);
    co_return ok();
  }
  if (config_->opts.credentials.present) {
    if (auto presented = co_await present_fresh_credential(ctx); !presented) co_return presented;
  }
  auto sealed = seal_message(std::move(message));
  if (!sealed) co_return sealed.error();
  co_return co_await ctx.forward(std::move(sealed).value());
}

result<local_message> encryptor::seal_message(local_message message) {
  (void)message.onward_route.step();  // ourselves
  // Plaintext: the inner message's wire form, then the content kind (last, so the receiver can
  // drop it and decode the rest in place). It is encrypted where it lies, in the frame.
  const std::span<const nodus::address> onward(message.onward_route.begin(), message.onward_route.end());
  const std::span<const nodus::address> back(message.return_route.begin(), message.return_route.end());
  auto frame = start_frame(encoded_size(message.kind, onward, back, message.payload.size()) + 1);
  encode_head_append(message.kind, onward, back, message.payload.size(), frame);
  frame.insert(frame.end(), message.payload.begin(), message.payload.end());
  frame.push_back(static_cast<std::uint8_t>(frame::content::message));
  return seal_for_peer(std::move(frame), true, std::move(message));
}

local_message encryptor::outgoing(bytes frame, local_message spent) const {
  // Copy-assigning a route into one of at least its size reuses the vector and, where they are
  // long enough, the addresses' strings: no allocation per message for the routes.
  spent.onward_route = remote_;
  spent.return_route = decryptor_route_;
  spent.payload = std::move(frame);
  spent.metadata.clear();
  spent.origin.reset();
  spent.kind = message_kind::message;
  return spent;
}

result<local_message> encryptor::seal_for_peer(bytes frame, bool counted, local_message spent) {
  const auto sequence = next_++;
  if (sequence != 0 && sequence % config_->opts.rekey_interval == 0) {
    if (auto rekeyed = cipher_.rekey(); !rekeyed) return rekeyed.error();
  }
  if (auto sealed = seal_frame(cipher_, sequence, frame); !sealed) return sealed.error();
  if (counted) config_->channel_state->sent.fetch_add(1, std::memory_order_relaxed);
  return outgoing(std::move(frame), std::move(spent));
}

task<result<>> encryptor::present_fresh_credential(context& ctx) {
  auto fresh = config_->opts.credentials.present();
  if (!fresh || fresh == presented_) co_return ok();
  // Before the message that follows: the peer sees the new credential first (frames of one
  // direction are delivered in order, or dropped as too old).
  auto frame = start_frame(fresh->size() + 1);
  frame.insert(frame.end(), fresh->begin(), fresh->end());
  frame.push_back(static_cast<std::uint8_t>(frame::content::credential));
  auto sealed = seal_for_peer(std::move(frame), false, local_message{});
  if (!sealed) co_return sealed.error();
  auto out = std::move(sealed).value();
  if (auto sent = co_await ctx.forward(std::move(out)); !sent) co_return sent;
  presented_ = std::move(fresh);
  ctx.log().debug("secure channel {}: presented a refreshed credential", config_->channel_state->encryptor);
  co_return ok();
}

task<result<>> encryptor::handle_delivery_error(context& ctx, local_message notice) {
  // A notice's route was chosen by another node: it may go through the channel, never close it.
  if (notice.onward_route.next() == close_at_) co_return ok();
  co_return co_await handle_message(ctx, std::move(notice));
}

task<result<>> encryptor::close(context& ctx) {
  auto& channel = *config_->channel_state;
  const auto sequence = next_++;
  if (sequence != 0 && sequence % config_->opts.rekey_interval == 0) (void)cipher_.rekey();
  auto sealed = control_frame(cipher_, sequence, frame::content::close);
  if (sealed) {
    auto out = outgoing(std::move(sealed.value()), local_message{});
    if (auto sent = co_await ctx.forward(std::move(out)); !sent)
      ctx.log().info("secure channel {}: the Close message could not be sent: {}", channel.encryptor,
                     sent.error().message());
  }
  channel.open.store(false);
  ctx.log().info("secure channel {} with {} closed by this side", channel.encryptor, channel.peer);
  (void)co_await ctx.stop_worker(channel.decryptor);
  (void)co_await ctx.stop_worker(channel.encryptor);
  co_return ok();
}

}  // namespace nodus::secure_channel
