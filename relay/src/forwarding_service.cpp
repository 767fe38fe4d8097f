#include "nodus/relay/relay.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "name_bindings.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/core/random.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::relay {

using steady = std::chrono::steady_clock;

/// The live relays, and in members-only mode the names' owners.
struct forwarding_service::registry {
  struct relay {
    std::shared_ptr<const route> to_client;  // the route back to the client (its connection or channel first)
    bool into_channel = false;               // the route starts at the secure channel it registered through
    steady::time_point renewed;              // its last registration (or ping)
  };
  std::mutex mutex;
  std::map<std::string, relay> relays;
  std::unique_ptr<detail::name_bindings> names;  // members-only mode

  std::optional<relay> find(const std::string& name) {
    std::lock_guard lock(mutex);
    auto it = relays.find(name);
    if (it == relays.end()) return std::nullopt;
    return it->second;
  }
};

namespace {

// 128 bits from the CSPRNG: in open mode an unguessable name is what keeps strangers from
// sending to a relay they were not told about.
std::string random_name() { return random_hex("", 16); }

// The client is reachable while the first hop back to it (its connection's worker) exists.
bool alive(const context& ctx, const route& to_client) {
  return !to_client.empty() && (!to_client.next().is_local() || is_served(ctx, to_client.next()));
}

// True when `m` came out of the secure channel whose encryptor is the first hop of `to_client`:
// from the relay's client, when it registered through a channel to this hub.
bool came_through_first_hop(const local_message& m, const route& to_client) {
  const auto channel = m.metadata.find(secure_channel::channel_key);
  return channel != m.metadata.end() && !to_client.empty() && to_client.next() == address(channel->second);
}

// Sends what reaches `forward_to_<name>` to the client: the rest of the onward route is
// appended to the route back to the client. The return route is left as it is, as in Ockam:
// replies then travel straight back to the sender, not through the relay. A delivery-error
// notice (a return route may go through a relay) is forwarded the same way; one about what
// the relay cannot deliver (its client is gone, or its connection) goes back to the sender.
//
// A client that registered through a secure channel to this hub (members-only mode) is reached
// through that channel's encryptor, which nobody else may name (it speaks with the hub's
// identity). So there the relay carries both ways: it puts itself on the return route of what
// it sends in, and what comes out of the client's channel to it has the encryptor on its return
// route replaced by the relay, so that the other side's answers come back through the relay.
class forwarder final : public raw_worker {
public:
  explicit forwarder(std::shared_ptr<forwarding_service::registry> relays, std::string name)
      : relays_(std::move(relays)), name_(std::move(name)) {}

  task<result<>> handle_message(context& ctx, local_message message) override {
    auto found = relays_->find(name_);
    if (!found) {
      report_undeliverable(ctx, message, errc::unknown_address,
                           fmt::format("relay '{}' has no client", printable_cut(ctx.address().value(), max_quoted)));
      co_return errc::unknown_address;
    }
    // NODUS_LOG=trace shows what the hub carries (through a secure channel: ciphertext only).
    if (ctx.log().should_log(spdlog::level::trace))
      ctx.log().trace("{}: {} bytes: {}", ctx.address(), message.payload.size(), printable(message.payload));
    (void)message.onward_route.step();
    if (found->into_channel && came_through_first_hop(message, *found->to_client))
      co_return co_await out_of_channel(ctx, std::move(message));
    route onward = *found->to_client;
    onward.append(message.onward_route);
    message.onward_route = std::move(onward);
    if (found->into_channel) co_return co_await into_channel(ctx, std::move(message));
    co_return co_await ctx.forward(std::move(message));
  }

  task<result<>> handle_delivery_error(context& ctx, local_message notice) override {
    return handle_message(ctx, std::move(notice));
  }

private:
  static constexpr std::size_t max_quoted = 64;

  // What the client's channel delivered here goes on, its return route leading back through
  // the relay instead of through the encryptor.
  task<result<>> out_of_channel(context& ctx, local_message message) {
    if (!message.return_route.empty()) (void)message.return_route.step();  // the encryptor
    message.return_route.prepend(ctx.address());
    co_return co_await ctx.forward(std::move(message));
  }

  // Into the encryptor, which takes only messages made on this node: carrying messages to the
  // client is what it asked of the hub when it registered, so the relay sends them in as the
  // hub's own (without their origin). What it cannot deliver is still reported to the sender,
  // as the runtime would have.
  task<result<>> into_channel(context& ctx, local_message message) {
    message.return_route.prepend(ctx.address());
    local_message sender;  // what a report needs: the way back, and that it came from elsewhere
    sender.return_route = message.return_route;
    (void)sender.return_route.step();
    sender.origin = std::move(message.origin);
    sender.kind = message.kind;
    message.origin = nullptr;
    auto sent = co_await ctx.forward(std::move(message));
    if (!sent)
      report_undeliverable(ctx, sender, sent.error(),
                           fmt::format("relay '{}' cannot reach its client's channel",
                                       printable_cut(ctx.address().value(), max_quoted)));
    co_return sent;
  }

  std::shared_ptr<forwarding_service::registry> relays_;
  std::string name_;
};

// Removes relays whose client connection has gone, every `interval`; in members-only mode also
// those not renewed within the lease (their names stay bound).
class relay_sweeper final : public processor {
public:
  relay_sweeper(std::shared_ptr<forwarding_service::registry> relays, duration interval, std::optional<duration> lease)
      : relays_(std::move(relays)), interval_(interval), lease_(lease) {}

  task<result<bool>> process(context& ctx) override {
    if (auto slept = co_await ctx.sleep(interval_); !slept) co_return false;
    std::vector<std::pair<std::string, std::string>> gone;  // name, why
    {
      std::lock_guard lock(relays_->mutex);
      const auto now = steady::now();
      for (auto it = relays_->relays.begin(); it != relays_->relays.end();) {
        auto why = removal(ctx, it->second, now);
        if (why.empty()) {
          ++it;
        } else {
          gone.emplace_back(it->first, std::move(why));
          it = relays_->relays.erase(it);
        }
      }
    }
    for (const auto& [name, why] : gone) {
      ctx.log().info("relay: '{}{}' removed: {}", relay_prefix, name, why);
      co_await ctx.stop_worker(address(std::string(relay_prefix) + name));
    }
    co_return true;
  }

private:
  // Why the relay goes now, or empty.
  std::string removal(const context& ctx, const forwarding_service::registry::relay& r, steady::time_point now) const {
    if (!alive(ctx, *r.to_client)) return "its client's connection is gone";
    if (lease_ && now - r.renewed > *lease_)
      return fmt::format("its client has not renewed it for {} ms (the name stays bound)", lease_->count());
    return {};
  }

  std::shared_ptr<forwarding_service::registry> relays_;
  duration interval_;
  std::optional<duration> lease_;
};

task<result<>> reply(context& ctx, const routed<relay_request>& request, relay_reply answer) {
  co_return co_await ctx.send(request.return_route(), answer);
}

}  // namespace

forwarding_service::forwarding_service(forwarding_options options)
    : options_(std::move(options)), registry_(std::make_shared<registry>()) {}

task<result<>> forwarding_service::initialize(context& ctx) {
  if (options_.members) {
    if (options_.members->state_directory.empty()) {
      registry_->names = std::make_unique<detail::name_bindings>();
    } else {
      auto names = detail::name_bindings::open(options_.members->state_directory);
      if (!names) {
        ctx.log().error("relay: cannot start the members-only forwarding service: {}", names.error().message());
        co_return errc::worker_failed;
      }
      registry_->names = std::move(names).value();
    }
    ctx.log().info("relay: members only ({} name(s) bound); registrants must be allowed by {}",
                   registry_->names->size(), options_.members->allow.text());
  }
  std::optional<duration> lease;
  if (options_.members) lease = options_.members->lease;
  co_return co_await ctx.start_processor(address(ctx.address().value() + ".sweeper"),
                                         relay_sweeper(registry_, options_.sweep_interval, lease));
}

task<result<>> forwarding_service::handle_message(context& ctx, routed<relay_request> request) {
  relay_reply answer;
  const auto& body = request.body();
  if (body.version != relay_protocol_version) {
    answer.error =
        fmt::format("unsupported relay protocol version {} (this hub speaks {})", body.version, relay_protocol_version);
    co_return co_await reply(ctx, request, std::move(answer));
  }
  if (!body.name.empty() && !detail::valid_relay_name(body.name)) {
    answer.error =
        fmt::format("'{}' is not a valid relay name (1 to {} letters, digits, '-', '_', '.')",
                    printable(as_bytes(std::string_view(body.name).substr(0, 2 * detail::max_relay_name_length))),
                    detail::max_relay_name_length);
    co_return co_await reply(ctx, request, std::move(answer));
  }
  auto name = body.name;
  if (options_.members)
    answer.error = admit_member(ctx, request, name);
  else if (name.empty())
    name = random_name();
  // The route back to the client, without the client's own (per-request) reply address.
  std::vector<address> hops(request.return_route().begin(), request.return_route().end());
  if (answer.error.empty() && hops.size() < 2) answer.error = "a relay must be registered from another node";
  if (answer.error.empty()) {
    hops.pop_back();
    auto to_client = std::make_shared<const route>(std::move(hops));
    const bool into_channel = options_.members && came_through_first_hop(request.message(), *to_client);
    answer.error = co_await hold(ctx, name, std::move(to_client), into_channel);
  }
  if (answer.error.empty())
    answer.relay = std::string(relay_prefix) + name;
  else
    ctx.log().warn("relay: registration of '{}' refused: {}", name.empty() ? "a random name" : name, answer.error);
  co_return co_await reply(ctx, request, std::move(answer));
}

std::string forwarding_service::admit_member(context& ctx, const routed<relay_request>& request, std::string& name) {
  const auto& members = *options_.members;
  // Who registers is who the hub's secure channel authenticated, never anything in the request.
  const auto who = secure_channel::asking_subject(request.message(), {});
  if (who.identifier.empty())
    return "this hub's relays are for members only: register through a secure channel to the hub";
  if (!members.allow.allows(who)) return secure_channel::refusal_reason(who, members.allow, "the relay service");
  if (auto refused = detail::relay_attribute_refusal(who, name); !refused.empty()) return refused;
  if (name.empty()) name = random_name();
  const auto owner = registry_->names->owner(name);
  if (owner == who.identifier) return {};
  if (!owner.empty()) return fmt::format("relay name '{}' belongs to {}", name, owner);
  if (auto bound = registry_->names->bind(name, who.identifier, members.max_names); !bound)
    return bound.error().message();
  ctx.log().info("relay: name '{}' is bound to {} from now on", name, who.identifier);
  return {};
}

task<std::string> forwarding_service::hold(context& ctx, std::string name, std::shared_ptr<const route> to_client,
                                           bool into_channel) {
  const address relay(std::string(relay_prefix) + name);
  bool start = false;
  {
    std::lock_guard lock(registry_->mutex);
    auto [it, fresh] = registry_->relays.try_emplace(name);
    auto& slot = it->second;
    start = fresh;
    // In members-only mode only the name's owner gets here: it may move its relay at any time.
    if (!fresh && !options_.members && *slot.to_client != *to_client && alive(ctx, *slot.to_client))
      co_return fmt::format("relay name '{}' is taken by a live client", name);
    if (!fresh && *slot.to_client != *to_client)
      ctx.log().info("relay: '{}' now reaches its client via {}", relay, *to_client);
    slot = {to_client, into_channel, steady::now()};  // a ping, a new client, or one that took over
  }
  if (!start) co_return std::string();
  // A relay is a public name: whoever can reach the hub may send to it (its client decides
  // what is reachable behind it).
  worker_options anyone;
  anyone.reach = reach::any_origin;
  auto started = co_await ctx.start_worker(relay, forwarder(registry_, name), std::move(anyone));
  if (!started) {
    std::lock_guard lock(registry_->mutex);
    registry_->relays.erase(name);
    co_return fmt::format("cannot start '{}': {}", relay, started.error().message());
  }
  ctx.log().info("relay: '{}' registered; forwards to {}{}", relay, *to_client,
                 into_channel ? " (the secure channel it registered through)" : "");
  co_return std::string();
}

task<> forwarding_service::shutdown(context&) {
  std::lock_guard lock(registry_->mutex);
  registry_->relays.clear();
  co_return;
}

}  // namespace nodus::relay
