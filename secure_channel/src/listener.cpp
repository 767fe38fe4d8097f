#include <utility>

#include <spdlog/spdlog.h>

#include "channel_workers.hpp"

namespace nodus::secure_channel {

task<result<>> listener_worker::handle_message(context& ctx, local_message message) {
  auto parsed = frame::parse(message.payload);
  if (!parsed || parsed->kind != frame::kind::handshake_1) {
    ctx.log().warn("secure channel listener {}: dropped a message that is not handshake message 1 (from {})",
                   state_->at, message.return_route);
    co_return ok();
  }
  if (state_->pending.load() >= opts_.max_pending_handshakes) {
    ctx.log().warn("secure channel listener {}: {} handshakes in progress; refusing one from {}", state_->at,
                   opts_.max_pending_handshakes, message.return_route);
    auto framed = frame::abort("the listener is busy; try again later");
    (void)co_await ctx.send(message.return_route, std::move(framed));
    co_return ok();
  }

  noise_xx_handshake::options hs;
  hs.side = noise_xx_handshake::role::responder;
  hs.suite = opts_.suite;
  hs.static_key = detail::access::state(opts_.identity)->static_key;
  hs.prologue.assign(handshake_prologue().begin(), handshake_prologue().end());
  auto handshake =
      noise_xx_handshake::create(detail::access::state(opts_.identity)->identity.key_vault(), std::move(hs));
  if (!handshake) {
    ctx.log().error("secure channel listener {}: cannot start a handshake: {}", state_->at,
                    handshake.error().message());
    co_return ok();
  }

  auto config = std::make_shared<end_config>();
  config->opts = opts_;
  config->channel_state = std::make_shared<channel_shared_state>();
  config->channel_state->encryptor = random_address("sc.");
  config->channel_state->decryptor = random_address("sc.in.");
  config->listener_state = state_;
  state_->pending.fetch_add(1);
  const auto at = config->channel_state->decryptor;
  decryptor responder(std::move(handshake.value()), route(), config);
  if (auto started = co_await ctx.start_worker(at, std::move(responder)); !started) {
    state_->pending.fetch_sub(1);
    ctx.log().error("secure channel listener {}: cannot start a responder: {}", state_->at, started.error().message());
    co_return ok();
  }
  // The responder answers along the message's return route.
  local_message handoff{route(at), std::move(message.return_route), std::move(message.payload), {}};
  co_return co_await ctx.forward(std::move(handoff));
}

}  // namespace nodus::secure_channel
