// The state an inlet or outlet shares with its connections, the registry of every node's inlets
// and outlets, the handles, and small helpers for sockets and addresses.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "side.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>

#include "nodus/core/random.hpp"
#include "nodus/node/extension.hpp"
#include "nodus/portal/protocol.hpp"

namespace nodus::portal {

namespace detail {

portal_stats portal_state::snapshot() const noexcept {
  portal_stats s;
  s.connections_open = open.load();
  s.connections_total = total.load();
  s.connections_failed = failed.load();
  s.bytes_in = in.load();
  s.bytes_out = out.load();
  s.bytes_unacknowledged = unacked.load();
  s.bytes_buffered = buffered.load();
  return s;
}

side::side(kind w, std::shared_ptr<portal_state> st, connection_settings set, std::size_t max,
           boost::asio::any_io_executor e, spdlog::logger& logger, std::shared_ptr<context> control)
    : what(w),
      state(std::move(st)),
      settings(set),
      max_connections(max),
      io(std::move(e)),
      log(logger),
      label(fmt::format("tcp {} '{}'", w == kind::inlet ? "inlet" : "outlet", state->at)),
      control_(std::move(control)) {}

std::shared_ptr<context> side::control() const {
  std::lock_guard lock(mutex_);
  return control_;
}

void side::release_control() {
  std::shared_ptr<context> released;
  {
    std::lock_guard lock(mutex_);
    released.swap(control_);
  }
}

bool side::add(const std::shared_ptr<connection>& c, const address& at) {
  std::lock_guard lock(mutex_);
  if (stopping_ || connections_.size() >= max_connections) return false;
  connections_.emplace(at, c);
  return true;
}

void side::remove(const address& connection_worker) {
  std::lock_guard lock(mutex_);
  connections_.erase(connection_worker);
}

std::vector<std::shared_ptr<connection>> side::begin_stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  std::vector<std::shared_ptr<connection>> open;
  for (auto& [at, weak] : connections_)
    if (auto c = weak.lock()) open.push_back(std::move(c));
  return open;
}

bool side::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void configure_socket(boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  socket.set_option(boost::asio::socket_base::keep_alive(true), ignored);
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  return e.address().is_v6() ? fmt::format("[{}]:{}", e.address().to_string(), e.port())
                             : fmt::format("{}:{}", e.address().to_string(), e.port());
}

std::string invalid_sizes(std::size_t window, std::size_t chunk) {
  if (window == 0 || window > max_window_bytes)
    return fmt::format("window_bytes must be between 1 and {}, not {}", max_window_bytes, window);
  if (chunk == 0 || chunk > max_data_bytes)
    return fmt::format("chunk_bytes must be between 1 and {}, not {}", max_data_bytes, chunk);
  return {};
}

address new_connection_address(std::string_view prefix) { return address(random_hex(prefix, 16)); }

// ---- the registry -------------------------------------------------------------------------

namespace {

// A node is known by its io_context, which lives as long as the node.
const void* node_key(const context& ctx) {
  auto executor = io_executor(ctx);
  return &boost::asio::query(executor, boost::asio::execution::context);
}

using registry_key = std::tuple<const void*, int, address>;

struct registry {
  std::mutex mutex;
  std::map<registry_key, std::weak_ptr<side>> sides;

  static registry& instance() {
    static registry r;
    return r;
  }
};

registry_key key_of(const context& ctx, side::kind what, const address& at) {
  return {node_key(ctx), static_cast<int>(what), at};
}

}  // namespace

void register_side(const context& ctx, const std::shared_ptr<side>& s) {
  auto& r = registry::instance();
  std::lock_guard lock(r.mutex);
  r.sides[key_of(ctx, s->what, s->state->at)] = s;
}

void unregister_side(const context& ctx, const side& s) {
  auto& r = registry::instance();
  std::lock_guard lock(r.mutex);
  r.sides.erase(key_of(ctx, s.what, s.state->at));
}

std::shared_ptr<side> find_side(const context& ctx, side::kind what, const address& at) {
  auto& r = registry::instance();
  std::lock_guard lock(r.mutex);
  auto it = r.sides.find(key_of(ctx, what, at));
  return it == r.sides.end() ? nullptr : it->second.lock();
}

namespace {

task<result<>> stop_side(context& ctx, side::kind what, address at) {
  if (!find_side(ctx, what, at)) co_return errc::unknown_address;
  co_return co_await ctx.stop_worker(std::move(at));  // its shutdown closes every connection
}

}  // namespace

}  // namespace detail

// ---- the handles --------------------------------------------------------------------------

const nodus::address& tcp_outlet::address() const noexcept { return state_->at; }
const std::string& tcp_outlet::target() const noexcept { return state_->endpoint; }
portal_stats tcp_outlet::stats() const noexcept { return state_->snapshot(); }

const nodus::address& tcp_inlet::address() const noexcept { return state_->at; }
const std::string& tcp_inlet::bound() const noexcept { return state_->endpoint; }
portal_stats tcp_inlet::stats() const noexcept { return state_->snapshot(); }

task<result<>> stop_tcp_outlet(context& ctx, const nodus::address& at) {
  return detail::stop_side(ctx, detail::side::kind::outlet, at);  // a copy: the coroutine keeps it
}

task<result<>> stop_tcp_inlet(context& ctx, const nodus::address& at) {
  return detail::stop_side(ctx, detail::side::kind::inlet, at);
}

}  // namespace nodus::portal
