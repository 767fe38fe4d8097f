#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "node_daemon.hpp"
#include "project.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "../home.hpp"
#include "nodus/node/main.hpp"
#include "nodus/relay/relay.hpp"
#include "nodus/services/echoer.hpp"

namespace nodus::cli::daemon {
namespace fs = std::filesystem;

namespace {

// Held for the life of the process: a second process for the same name fails to take it, and
// the kernel lets go of it however this one ends (SIGKILL included).
result_or_failure<int> take_lock(const fs::path& directory, const std::string& name) {
  const auto path = directory / "lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return nodus::fail(std::error_code(errno, std::generic_category()), path.string() + ": cannot open");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    const auto pid = running_pid(name);
    return nodus::fail(std::make_error_code(std::errc::device_or_resource_busy),
                       "node '" + name + "' is already running" +
                           (pid && *pid > 0 ? " (pid " + std::to_string(*pid) + ")" : std::string()));
  }
  return fd;
}

std::string text_of(const json::value& v, std::string_view key, std::string fallback = {}) {
  const auto* member = v.find(key);
  return member && member->as_string() ? *member->as_string() : fallback;
}

task<int> serve(context& ctx, std::shared_ptr<node_state> state, json::value config) {
  auto& log = ctx.log();
  state->main = &ctx;
  auto transport = co_await tcp_transport::create(ctx);
  if (!transport) {
    log.error("node {}: cannot start the TCP transport: {}", state->name, transport.error().message());
    co_return 1;
  }
  state->tcp = transport.value();
  const address echoer_address("echoer");
  if (auto started = co_await ctx.start_worker(echoer_address, services::echoer{}); !started) {
    log.error("node {}: cannot start the echoer: {}", state->name, started.error().message());
    co_return 1;
  }
  // Before the services: listeners whose trust is the project's members need its credentials.
  if (auto joined = co_await start_project(ctx, state, config); !joined) {
    log.error("node {}: project: {}", state->name, joined.error().message());
    co_return 1;
  }
  if (auto started = co_await start_relay_service(ctx, state); !started) {
    log.error("node {}: cannot start the relay service: {}", state->name, started.error().message());
    co_return 1;
  }
  json::value services;  // named: g++ 12 mishandles `cond ? a : b` temporaries inside co_await
  if (const auto* listed = config.find("services")) services = *listed;
  co_await restore_services(state, std::move(services));

  std::weak_ptr<node_state> weak = state;
  control::handler h = [weak](control::request req) -> task<control::reply> {
    return handle(weak.lock(), std::move(req));
  };
  auto api = control::serve_unix(ctx, state->directory / "api.sock", h);
  if (!api) {
    log.error("node {}: {}", state->name, api.error().message());
    co_return 1;
  }
  state->api = api.value();
  if (const auto* tcp_api = config.find("api_tcp"); tcp_api && tcp_api->as_string()) {
    // The token is made anew at each start and kept owner-only beside the socket.
    auto token = address::random_local().value() + address::random_local().value();
    auto served = control::serve_tcp(ctx, *tcp_api->as_string(), token, h);
    if (!served) {
      log.error("node {}: {}", state->name, served.error().message());
      co_return 1;
    }
    state->api_tcp = served.value();
    json::value where;
    where["address"] = served.value()->where();
    where["token"] = token;
    if (auto written = write_json_file(state->directory / "api.tcp.json", where); !written)
      log.error("node {}: {}", state->name, written.error().message());
    log.info("node {}: control API also on http://{} (bearer token in {})", state->name, served.value()->where(),
             (state->directory / "api.tcp.json").string());
  }
  if (const auto* bind = config.find("metrics"); bind && bind->as_string()) {
    control::handler observe = [weak](control::request req) -> task<control::reply> {
      return handle_observability(weak.lock(), std::move(req));
    };
    auto served = control::serve_tcp(ctx, *bind->as_string(), "", observe);
    if (!served) {
      log.error("node {}: metrics: {}", state->name, served.error().message());
      co_return 1;
    }
    state->metrics = served.value();
    log.info("node {}: metrics on http://{}/metrics, status page on http://{}/", state->name, served.value()->where(),
             served.value()->where());
  }
  log.info("node {}: ready; identity {} ({}), control API on {}", state->name, state->identity->id(),
           state->identity_name, state->api->where());
  co_await serve_until_stopped(ctx);
  log.info("node {}: stopping", state->name);
  state->api->close();
  if (state->api_tcp) state->api_tcp->close();
  if (state->metrics) state->metrics->close();
  {
    // Let go of every handle while the node still runs: some hold its sockets and timers.
    std::lock_guard lock(state->mutex);
    state->relays.clear();
    state->listeners.clear();
    state->channels.clear();
    state->outlets.clear();
    state->inlets.clear();
    // The transit listeners hold acceptors of the node's io_context: closed and let go now, not
    // when the state goes after the io_context (a use after free ASan found).
    for (auto& t : state->transit_listeners)
      if (t.server) t.server->close();
    state->transit_listeners.clear();
  }
  state->main = nullptr;
  co_return 0;
}

}  // namespace

int run(const std::string& name) {
  if (auto valid = check_node_name(name); !valid) {
    std::cerr << "nodus node: " << valid.error().message() << '\n';
    return 2;
  }
  auto state = std::make_shared<node_state>();
  state->name = name;
  state->directory = node_directory(name);
  state->started_at = std::chrono::system_clock::now();
  auto config = read_json_file(state->directory / "node.json");
  if (!config) {
    std::cerr << "nodus node: no node named '" << name << "' (" << config.error().message() << ")\n";
    return 1;
  }
  auto lock = take_lock(state->directory, name);
  if (!lock) {
    std::cerr << "nodus node: " << lock.error().message() << '\n';
    return 1;
  }
  {
    std::ofstream pid(state->directory / "pid", std::ios::trunc);
    pid << ::getpid() << '\n';
  }
  state->identity_name = text_of(config.value(), "identity", name);
  // The node's own vault, or the one node.json names (node create --identity NAME of an identity
  // in the default vault, $NODUS_HOME/vault, where `identity create` and `project enroll` keep it).
  const auto vault_directory = text_of(config.value(), "vault", (state->directory / "vault").string());
  auto keys = vault::vault::open_directory(vault_directory);
  if (!keys) {
    std::cerr << "nodus node: " << keys.error().message() << '\n';
    return 1;
  }
  state->keys = keys.value();
  vault::identity_store identities(state->keys);
  auto id = identities.load_or_create(state->identity_name);
  if (!id) {
    std::cerr << "nodus node: identity '" << state->identity_name << "': " << id.error().message() << '\n';
    return 1;
  }
  state->identity = id.value();
  // node.json but its services, with the identifier added (`node list` shows it when stopped).
  if (const auto* members = config.value().as_object())
    for (const auto& [key, v] : *members)
      if (key != "services") state->settings[key] = v;
  state->settings["identifier"] = state->identity->id();
  auto channel_id = secure_channel::channel_identity::create(*state->identity);
  if (!channel_id) {
    std::cerr << "nodus node: " << channel_id.error().message() << '\n';
    return 1;
  }
  state->channel_identity = channel_id.value();
  const int code =
      run_main({.name = name}, [state, c = std::move(config).value()](context& ctx) { return serve(ctx, state, c); });
  std::error_code ignored;
  fs::remove(state->directory / "api.sock", ignored);
  fs::remove(state->directory / "api.tcp.json", ignored);
  fs::remove(state->directory / "pid", ignored);
  return code;
}

}  // namespace nodus::cli::daemon
