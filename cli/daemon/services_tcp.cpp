// TCP listeners, TCP connections, and `message send` on a running node.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>

#include "node_daemon.hpp"
#include "project.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

// The workers a new TCP listener exposes: the explicit ones, every secure channel listener, and
// the authority's listener when the node is a project's authority.
std::vector<address> listener_exposure(node_state& s, std::vector<address> explicit_ones) {
  std::lock_guard lock(s.mutex);
  for (const auto& l : s.listeners)
    if (std::find(explicit_ones.begin(), explicit_ones.end(), l.at) == explicit_ones.end())
      explicit_ones.push_back(l.at);
  if (s.project && s.project->own) explicit_ones.emplace_back(authority_listener_address);
  return explicit_ones;
}

}  // namespace

task<control::reply> create_tcp_listener(std::shared_ptr<node_state> s, json::value body) {
  const auto bind = text_field(body, "address");
  if (bind.empty()) co_return bad_request("'address' (HOST:PORT to listen on) is required");
  auto explicit_expose = address_list_field(body, "expose");
  if (!explicit_expose) co_return bad_request(explicit_expose.error().message());
  tcp_listener_options options;
  options.expose = listener_exposure(*s, explicit_expose.value());
  auto bound = s->tcp->listen(bind, std::move(options));
  if (!bound) co_return failed("cannot listen on " + bind + ": " + bound.error().message());
  {
    std::lock_guard lock(s->mutex);
    s->tcp_listeners.push_back(bound.value());
    s->tcp_listener_expose.push_back(explicit_expose.value());
    s->save();
  }
  control::reply r{201, {}};
  r.body["address"] = bound.value();
  r.body["expose"] = texts(explicit_expose.value());
  co_return r;
}

task<control::reply> delete_tcp_listener(std::shared_ptr<node_state> s, std::string bound) {
  if (auto stopped = s->tcp->stop_listening(bound); !stopped) co_return not_found("no TCP listener on " + bound);
  std::lock_guard lock(s->mutex);
  for (std::size_t i = 0; i < s->tcp_listeners.size(); ++i)
    if (s->tcp_listeners[i] == bound) {
      s->tcp_listeners.erase(s->tcp_listeners.begin() + static_cast<std::ptrdiff_t>(i));
      s->tcp_listener_expose.erase(s->tcp_listener_expose.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  s->save();
  control::reply r{200, {}};
  r.body["deleted"] = bound;
  co_return r;
}

json::value tcp_listeners_json(node_state& s) {
  json::value out = json::array{};
  for (const auto& l : s.tcp->listeners()) {
    json::value entry;
    entry["address"] = l.bound;
    entry["expose"] = texts(l.expose);
    out.push_back(std::move(entry));
  }
  return out;
}

task<control::reply> create_tcp_connection(std::shared_ptr<node_state> s, json::value body) {
  const auto to = text_field(body, "to");
  if (to.empty()) co_return bad_request("'to' (HOST:PORT to connect to) is required");
  auto connected = co_await s->tcp->connect(to);
  if (!connected) co_return failed("cannot connect to " + to + ": " + connected.error().message());
  control::reply r{201, {}};
  r.body["worker"] = connected.value().to_string();
  r.body["peer"] = to;
  r.body["route"] = tcp(to).to_string();
  co_return r;
}

task<control::reply> delete_tcp_connection(std::shared_ptr<node_state> s, std::string which) {
  for (const auto& c : s->tcp->connections()) {
    if (c.worker.to_string() != which && c.peer != which) continue;
    auto ctx = s->main->new_detached("control.");
    auto stopped = co_await ctx.stop_worker(c.worker);
    if (!stopped) co_return failed("cannot close the connection to " + c.peer + ": " + stopped.error().message());
    control::reply r{200, {}};
    r.body["deleted"] = c.peer;
    co_return r;
  }
  co_return not_found("no TCP connection to or named " + which);
}

json::value tcp_connections_json(node_state& s) {
  json::value out = json::array{};
  for (const auto& c : s.tcp->connections()) {
    json::value entry;
    entry["worker"] = c.worker.to_string();
    entry["peer"] = c.peer;
    entry["outgoing"] = c.outgoing;
    out.push_back(std::move(entry));
  }
  return out;
}

task<control::reply> send_message(std::shared_ptr<node_state> s, json::value body) {
  auto to = route_field(body, "to");
  if (!to) co_return bad_request(to.error().message());
  const auto* text = body.find("text");
  if (!text || !text->as_string()) co_return bad_request("'text' (the message) is required");
  auto timeout_ms = millis_field(body, "timeout_ms", 5000);
  if (!timeout_ms) co_return bad_request(timeout_ms.error().message());
  const auto route_text = to.value().to_string();
  auto ctx = s->main->new_detached("control.");
  // Connect first, so an unreachable first hop is reported at once rather than as a timeout.
  if (const auto& first = to.value().next(); first.type() == tcp_type) {
    auto connected = co_await s->tcp->connect(first.value());
    if (!connected) co_return failed("cannot connect to " + first.value() + ": " + connected.error().message());
  }
  const duration timeout{timeout_ms.value()};
  std::string message = *text->as_string();
  auto reply =
      co_await ctx.send_and_receive_or_failure<std::string>(std::move(to).value(), std::move(message), timeout);
  if (!reply) {
    const auto& why = reply.error();
    if (why.code == errc::timeout)
      co_return control::error_reply(
          504, "no reply from " + route_text + " within " + std::to_string(timeout.count()) + " ms");
    // A delivery error reported by another node (or this one) says which address and why.
    if (why.code == errc::unknown_address)
      co_return not_found("sending to " + route_text + " failed: " + why.message());
    co_return failed("sending to " + route_text + " failed: " + why.message());
  }
  control::reply r{200, {}};
  r.body["reply"] = reply.value().body();
  co_return r;
}

}  // namespace nodus::cli::daemon
