#include "nodus/relay/relay.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "nodus/core/delivery_error.hpp"
#include "nodus/core/random.hpp"
#include "nodus/node/extension.hpp"

namespace nodus::relay {

/// The live relays: name -> the route back to the client (its connection first).
struct forwarding_service::registry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<route>> relays;

  std::shared_ptr<route> find(const std::string& name) {
    std::lock_guard lock(mutex);
    auto it = relays.find(name);
    return it == relays.end() ? nullptr : it->second;
  }
};

namespace {

constexpr std::size_t max_name_length = 64;

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= max_name_length && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// 128 bits from the CSPRNG: until relays have owners (enrollment), an unguessable name is what
// keeps strangers from sending to a relay they were not told about.
std::string random_name() { return random_hex("", 16); }

// The client is reachable while the first hop back to it (its connection's worker) exists.
bool alive(const context& ctx, const route& to_client) {
  return !to_client.empty() && (!to_client.next().is_local() || is_served(ctx, to_client.next()));
}

// Sends what reaches `forward_to_<name>` to the client: the rest of the onward route is
// appended to the route back to the client. The return route is left as it is, as in Ockam:
// replies then travel straight back to the sender, not through the relay. A delivery-error
// notice (a return route may go through a relay) is forwarded the same way; one about what
// the relay cannot deliver (its client is gone, or its connection) goes back to the sender.
class forwarder final : public raw_worker {
public:
  explicit forwarder(std::shared_ptr<forwarding_service::registry> relays, std::string name)
      : relays_(std::move(relays)), name_(std::move(name)) {}

  task<result<>> handle_message(context& ctx, local_message message) override {
    auto to_client = relays_->find(name_);
    if (!to_client) {
      constexpr std::size_t max_quoted = 64;
      report_undeliverable(ctx, message, errc::unknown_address,
                           fmt::format("relay '{}' has no client", printable_cut(ctx.address().value(), max_quoted)));
      co_return errc::unknown_address;
    }
    // NODUS_LOG=trace shows what the hub carries (through a secure channel: ciphertext only).
    if (ctx.log().should_log(spdlog::level::trace))
      ctx.log().trace("{}: {} bytes: {}", ctx.address(), message.payload.size(), printable(message.payload));
    (void)message.onward_route.step();
    route onward = *to_client;
    onward.append(message.onward_route);
    message.onward_route = std::move(onward);
    co_return co_await ctx.forward(std::move(message));
  }

  task<result<>> handle_delivery_error(context& ctx, local_message notice) override {
    return handle_message(ctx, std::move(notice));
  }

private:
  std::shared_ptr<forwarding_service::registry> relays_;
  std::string name_;
};

// Removes relays whose client connection has gone, every `interval`.
class relay_sweeper final : public processor {
public:
  relay_sweeper(std::shared_ptr<forwarding_service::registry> relays, duration interval)
      : relays_(std::move(relays)), interval_(interval) {}

  task<result<bool>> process(context& ctx) override {
    if (auto slept = co_await ctx.sleep(interval_); !slept) co_return false;
    std::vector<std::string> gone;
    {
      std::lock_guard lock(relays_->mutex);
      for (auto it = relays_->relays.begin(); it != relays_->relays.end();) {
        if (alive(ctx, *it->second)) {
          ++it;
        } else {
          gone.push_back(it->first);
          it = relays_->relays.erase(it);
        }
      }
    }
    for (const auto& name : gone) {
      ctx.log().info("relay: '{}{}' removed: its client's connection is gone", relay_prefix, name);
      co_await ctx.stop_worker(address(std::string(relay_prefix) + name));
    }
    co_return true;
  }

private:
  std::shared_ptr<forwarding_service::registry> relays_;
  duration interval_;
};

task<result<>> reply(context& ctx, const routed<relay_request>& request, relay_reply answer) {
  co_return co_await ctx.send(request.return_route(), answer);
}

}  // namespace

forwarding_service::forwarding_service(forwarding_options options)
    : options_(options), registry_(std::make_shared<registry>()) {}

task<result<>> forwarding_service::initialize(context& ctx) {
  co_return co_await ctx.start_processor(address(ctx.address().value() + ".sweeper"),
                                         relay_sweeper(registry_, options_.sweep_interval));
}

task<result<>> forwarding_service::handle_message(context& ctx, routed<relay_request> request) {
  relay_reply answer;
  const auto& body = request.body();
  if (body.version != relay_protocol_version) {
    answer.error =
        fmt::format("unsupported relay protocol version {} (this hub speaks {})", body.version, relay_protocol_version);
    co_return co_await reply(ctx, request, std::move(answer));
  }
  const auto name = body.name.empty() ? random_name() : body.name;
  if (!valid_name(name)) {
    answer.error =
        fmt::format("'{}' is not a valid relay name (1 to {} letters, digits, '-', '_', '.')",
                    printable(as_bytes(std::string_view(name).substr(0, 2 * max_name_length))), max_name_length);
    co_return co_await reply(ctx, request, std::move(answer));
  }
  // The route back to the client, without the client's own (per-request) reply address.
  std::vector<address> hops(request.return_route().begin(), request.return_route().end());
  if (hops.size() < 2) {
    answer.error = "a relay must be registered from another node";
    co_return co_await reply(ctx, request, std::move(answer));
  }
  hops.pop_back();
  auto to_client = std::make_shared<route>(std::move(hops));
  const address relay(std::string(relay_prefix) + name);

  bool start = false;
  {
    std::lock_guard lock(registry_->mutex);
    auto& slot = registry_->relays[name];
    if (!slot) {
      start = true;
      slot = to_client;
    } else if (*slot != *to_client && alive(ctx, *slot)) {
      answer.error = fmt::format("relay name '{}' is taken by a live client", name);
    } else {
      if (*slot != *to_client) ctx.log().info("relay: '{}' now reaches its client via {}", relay, *to_client);
      slot = to_client;  // the same client (a ping), or one that took over a dead client's name
    }
  }
  if (start) {
    // A relay is a public name: whoever can reach the hub may send to it (its client decides
    // what is reachable behind it).
    worker_options anyone;
    anyone.reach = reach::any_origin;
    auto started = co_await ctx.start_worker(relay, forwarder(registry_, name), std::move(anyone));
    if (!started) {
      std::lock_guard lock(registry_->mutex);
      registry_->relays.erase(name);
      answer.error = fmt::format("cannot start '{}': {}", relay, started.error().message());
    } else {
      ctx.log().info("relay: '{}' registered; forwards to {}", relay, *to_client);
    }
  }
  if (answer.error.empty())
    answer.relay = relay.value();
  else
    ctx.log().warn("relay: registration of '{}' refused: {}", name, answer.error);
  co_return co_await reply(ctx, request, std::move(answer));
}

task<> forwarding_service::shutdown(context&) {
  std::lock_guard lock(registry_->mutex);
  registry_->relays.clear();
  co_return;
}

}  // namespace nodus::relay
