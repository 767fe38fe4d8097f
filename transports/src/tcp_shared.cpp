#include "tcp_shared.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/post.hpp>

namespace nodus::detail {

std::shared_ptr<context> tcp_shared::control_context() const {
  std::lock_guard lock(mutex_);
  return control;
}

void tcp_shared::release_control() {
  std::lock_guard lock(mutex_);
  control.reset();
}

incoming_access_control tcp_shared::frame_limit() const {
  return incoming_access_control(
      [max = options.max_frame_size](const local_message& m) -> std::string {
        const auto size = tcp_frame::body_size(m);
        if (size <= max) return {};
        return fmt::format("its frame would be {} bytes, over the TCP frame limit of {} bytes", size, max);
      },
      errc::too_large);
}

worker_options tcp_shared::connection_worker_options(std::shared_ptr<const flow_origin> origin) const {
  worker_options o{frame_limit(), options.write_queue_capacity};
  o.reach = reach::any_origin;  // relaying onto a connection is what a hub does
  o.produces = std::move(origin);
  return o;
}

worker_options tcp_shared::router_options() const {
  worker_options o{frame_limit(), 0};
  o.reach = reach::any_origin;  // the router checks messages from elsewhere by destination
  return o;
}

bool tcp_shared::may_dial(const local_message& m) const {
  if (!m.origin) return true;
  const auto& allowed = options.allow_outgoing;
  return std::find(allowed.begin(), allowed.end(), m.onward_route.next().value()) != allowed.end();
}

address tcp_shared::connection_for(const std::string& peer) const {
  std::lock_guard lock(mutex_);
  auto it = peers_.find(peer);
  return it == peers_.end() ? address() : it->second.connection;
}

void tcp_shared::claim(const std::string& peer, const address& worker) {
  std::lock_guard lock(mutex_);
  peers_[peer].connection = worker;
}

void tcp_shared::release(const std::string& peer, const address& worker, bool attempt_failed) {
  std::lock_guard lock(mutex_);
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  auto& state = it->second;
  if (state.connection == worker) state.connection = address();
  if (!attempt_failed) {
    state.failures = 0;
    return;
  }
  // Exponential back-off: reconnect_backoff, twice that, ... up to max_reconnect_backoff.
  state.failures = std::min(state.failures + 1, 20u);
  auto wait = options.reconnect_backoff * (1u << std::min(state.failures - 1, 16u));
  state.next_attempt = clock::now() + std::min<duration>(wait, options.max_reconnect_backoff);
}

clock::time_point tcp_shared::next_attempt(const std::string& peer) const {
  std::lock_guard lock(mutex_);
  auto it = peers_.find(peer);
  return it == peers_.end() ? clock::time_point{} : it->second.next_attempt;
}

void tcp_shared::opened(tcp_connection_info info) {
  std::lock_guard lock(mutex_);
  auto key = info.worker;
  open_.insert_or_assign(std::move(key), std::move(info));
}

void tcp_shared::closed(const address& worker) {
  std::lock_guard lock(mutex_);
  open_.erase(worker);
}

std::vector<tcp_connection_info> tcp_shared::open_connections() const {
  std::lock_guard lock(mutex_);
  std::vector<tcp_connection_info> out;
  out.reserve(open_.size());
  for (const auto& [worker, info] : open_) out.push_back(info);
  return out;
}

void tcp_shared::add_acceptor(std::weak_ptr<boost::asio::ip::tcp::acceptor> a, tcp_listener_info info) {
  std::lock_guard lock(mutex_);
  acceptors_.push_back({std::move(a), std::move(info)});
}

namespace {
void close_on_its_strand(const std::weak_ptr<boost::asio::ip::tcp::acceptor>& weak) {
  if (auto acceptor = weak.lock())
    boost::asio::post(acceptor->get_executor(), [acceptor] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
}
}  // namespace

void tcp_shared::close_acceptors() {
  std::lock_guard lock(mutex_);
  for (auto& entry : acceptors_) close_on_its_strand(entry.acceptor);
  acceptors_.clear();
}

std::optional<std::string> tcp_shared::close_acceptor(std::string_view bound) {
  std::lock_guard lock(mutex_);
  for (auto it = acceptors_.begin(); it != acceptors_.end(); ++it)
    if (it->info.bound == bound) {
      close_on_its_strand(it->acceptor);
      auto flow = it->info.flow;
      acceptors_.erase(it);
      return flow;
    }
  return std::nullopt;
}

std::vector<tcp_listener_info> tcp_shared::listeners() const {
  std::lock_guard lock(mutex_);
  std::vector<tcp_listener_info> out;
  for (const auto& entry : acceptors_)
    if (!entry.acceptor.expired()) out.push_back(entry.info);
  return out;
}

bool tcp_listener_budget::open_connection() noexcept {
  auto open = connections_.load();
  do {
    if (open >= max_connections_) return false;
  } while (!connections_.compare_exchange_weak(open, open + 1));
  return true;
}

void tcp_listener_budget::close_connection() noexcept { connections_.fetch_sub(1); }

bool tcp_listener_budget::reserve(std::size_t n) noexcept {
  auto held = buffered_bytes_.load();
  do {
    if (held > max_buffered_bytes_ || n > max_buffered_bytes_ - held) return false;
  } while (!buffered_bytes_.compare_exchange_weak(held, held + n));
  return true;
}

void tcp_listener_budget::release(std::size_t n) noexcept { buffered_bytes_.fetch_sub(n); }

tcp_budget_share::tcp_budget_share(tcp_budget_share&& other) noexcept
    : budget_(std::move(other.budget_)), held_(std::exchange(other.held_, 0)) {}

tcp_budget_share& tcp_budget_share::operator=(tcp_budget_share&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::move(other.budget_);
    held_ = std::exchange(other.held_, 0);
  }
  return *this;
}

bool tcp_budget_share::hold(std::size_t bytes) noexcept {
  if (!budget_ || bytes == held_) return true;
  if (bytes > held_ && !budget_->reserve(bytes - held_)) return false;
  if (bytes < held_) budget_->release(held_ - bytes);
  held_ = bytes;
  return true;
}

void tcp_budget_share::release() noexcept {
  if (!budget_) return;
  budget_->release(held_);
  budget_->close_connection();
  budget_.reset();
  held_ = 0;
}

void configure_socket(boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  socket.set_option(boost::asio::socket_base::keep_alive(true), ignored);
}

}  // namespace nodus::detail
