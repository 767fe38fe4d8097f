// The entry points: create_secure_channel (initiator), create_secure_channel_listener,
// close_secure_channel, and the handles users keep.
#include <utility>

#include <spdlog/spdlog.h>

#include "channel_workers.hpp"
#include "nodus/node/extension.hpp"

namespace nodus::secure_channel {

const nodus::address& channel::address() const noexcept { return state_->encryptor; }
const nodus::address& channel::frames_address() const noexcept { return state_->decryptor; }
const vault::identifier& channel::peer() const noexcept { return state_->peer; }
std::map<std::string, std::string> channel::peer_attributes() const {
  auto held = state_->current_peer_credential();
  return held ? held->attributes : std::map<std::string, std::string>{};
}
bool channel::open() const noexcept { return state_->open.load(); }

channel_stats channel::stats() const noexcept {
  channel_stats s;
  s.sent = state_->sent.load(std::memory_order_relaxed);
  s.delivered = state_->delivered.load(std::memory_order_acquire);
  s.duplicates_dropped = state_->duplicates_dropped.load(std::memory_order_acquire);
  s.rejected = state_->rejected.load(std::memory_order_acquire);
  s.missing = state_->missing.load(std::memory_order_acquire);
  return s;
}

const nodus::address& listener::address() const noexcept { return state_->at; }
const std::string& listener::flow() const noexcept { return state_->flow; }

std::vector<channel> listener::channels() const {
  std::lock_guard lock(state_->mutex);
  std::vector<channel> out;
  out.reserve(state_->channels.size());
  for (const auto& c : state_->channels) out.push_back(detail::access::make_channel(c));
  return out;
}

namespace {

result_or_failure<> check_options(const options& o) {
  if (!o.identity) return fail(nodus::errc::not_supported, "secure channel options need an identity");
  if (!o.trust.chosen())
    return fail(nodus::errc::not_supported,
                "secure channel options need a trust policy: trust_policy::identifier(ID) or any_of(IDS) for the "
                "peers you expect, or everyone() to accept anyone who can reach you");
  if (o.rekey_interval == 0)
    return fail(nodus::errc::not_supported, "secure channel rekey_interval must be at least 1");
  return ok();
}

}  // namespace

task<result_or_failure<channel>> create_secure_channel(context& ctx, route to_listener, options o) {
  if (auto checked = check_options(o); !checked) co_return checked.error();
  if (to_listener.empty())
    co_return fail(nodus::errc::empty_route, "create_secure_channel needs a route to a listener");

  noise_xx_handshake::options hs;
  hs.side = noise_xx_handshake::role::initiator;
  hs.suite = o.suite;
  hs.static_key = detail::access::state(o.identity)->static_key;
  hs.prologue.assign(handshake_prologue().begin(), handshake_prologue().end());
  auto handshake = noise_xx_handshake::create(detail::access::state(o.identity)->identity.key_vault(), std::move(hs));
  if (!handshake) co_return fail(handshake.error(), "cannot start a handshake: " + handshake.error().message());

  context waiter = ctx.new_detached("sc.wait.");
  auto config = std::make_shared<end_config>();
  const auto timeout = o.handshake_timeout;
  const auto keep_waiting = o.keep_waiting;
  config->opts = std::move(o);
  config->channel_state = std::make_shared<channel_shared_state>();
  // Two independent random addresses: knowing where the peer sends frames (the decryptor, on
  // every return route) says nothing about where local workers send plaintext.
  config->channel_state->encryptor = random_address("sc.");
  config->channel_state->decryptor = random_address("sc.in.");
  config->waiter = waiter.address();
  const auto decryptor_address = config->channel_state->decryptor;
  const auto described = to_listener.to_string();

  decryptor initiator(std::move(handshake.value()), std::move(to_listener), config);
  if (auto started = co_await ctx.start_worker(decryptor_address, std::move(initiator)); !started)
    co_return fail(started.error(), "cannot start a handshake with " + described + ": " + started.error().message());

  auto told = co_await waiter.receive_message(timeout);
  auto waited = timeout;
  result_or_failure<> go_on = ok();
  while (!told && told.error() == nodus::errc::timeout && keep_waiting) {
    go_on = keep_waiting();  // e.g. "the hub confirmed the handshake and Bob's stream is being read"
    if (!go_on) break;
    ctx.log().debug("secure channel {}: no answer from {} within {} ms; waiting {} ms more", decryptor_address,
                    described, waited.count(), timeout.count());
    told = co_await waiter.receive_message(timeout);
    waited += timeout;
  }
  if (!told) {
    (void)co_await ctx.stop_worker(decryptor_address);
    // The encryptor exists only if our side of the handshake finished (the confirmation is late).
    if (is_served(ctx, config->channel_state->encryptor))
      (void)co_await ctx.stop_worker(config->channel_state->encryptor);
    if (!go_on) co_return go_on.error();
    co_return fail(nodus::errc::timeout, "no secure channel handshake with " + described + " within " +
                                             std::to_string(waited.count()) + " ms");
  }
  if (config->outcome) co_return *config->outcome;  // the decryptor has stopped itself
  co_return detail::access::make_channel(config->channel_state);
}

task<result_or_failure<listener>> create_secure_channel_listener(context& ctx, nodus::address at, options o) {
  if (auto checked = check_options(o); !checked) co_return checked.error();
  auto state = std::make_shared<listener_shared_state>();
  state->at = at;
  state->flow = context::new_flow("sc-listener.");
  for (const auto& worker : o.expose) ctx.expose(state->flow, worker);
  listener_worker worker(state, std::move(o));
  if (auto started = co_await ctx.start_worker(at, std::move(worker)); !started)
    co_return fail(started.error(),
                   "cannot start a secure channel listener at " + at.value() + ": " + started.error().message());
  co_return detail::access::make_listener(std::move(state));
}

task<result<>> close_secure_channel(context& ctx, const nodus::address& channel_address) {
  const bytes nothing;
  co_return co_await ctx.send(route(encryptor::close_address(channel_address)), nothing);
}

}  // namespace nodus::secure_channel
