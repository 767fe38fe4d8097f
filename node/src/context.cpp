#include "nodus/node/context.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/node_impl.hpp"
#include "nodus/core/random.hpp"

namespace nodus {

context::context(std::shared_ptr<detail::node_impl> node, std::shared_ptr<detail::mailbox> box, bool owns_box)
    : node_(std::move(node)), box_(std::move(box)), owns_box_(owns_box) {}

context::context(context&&) noexcept = default;

context& context::operator=(context&& other) noexcept {
  if (this != &other) {
    release();
    node_ = std::move(other.node_);
    box_ = std::move(other.box_);
    owns_box_ = std::exchange(other.owns_box_, false);
  }
  return *this;
}

context::~context() { release(); }

void context::release() noexcept {
  if (!owns_box_ || !box_) return;
  node_->unregister(*box_);
  box_->close();
  box_.reset();
}

const nodus::address& context::address() const noexcept { return box_->addresses().front(); }

std::span<const nodus::address> context::addresses() const noexcept { return box_->addresses(); }

spdlog::logger& context::log() const noexcept { return node_->log(); }

task<result<>> context::send_payload(nodus::address from, route to, bytes payload) {
  return node_->route_message(local_message{std::move(to), route{std::move(from)}, std::move(payload), {}}, box_.get());
}

task<result<>> context::forward(local_message message) { return node_->route_message(std::move(message), box_.get()); }

namespace {

task<> send_later(std::shared_ptr<detail::node_impl> node, duration delay, local_message m) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  boost::system::error_code ec;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  if (ec || node->stopping()) co_return;
  const auto from = m.return_route;
  const auto to = m.onward_route;
  auto sent = co_await node->route_message(std::move(m), nullptr);
  if (!sent) node->log().warn("delayed message from '{}' to '{}' not delivered: {}", from, to, sent.error().message());
}

}  // namespace

void context::send_payload_after(duration delay, route to, bytes payload) {
  node_->spawn(send_later(node_, delay, local_message{std::move(to), route{address()}, std::move(payload), {}}));
}

task<result<local_message>> context::receive_message(duration timeout) {
  auto message = co_await box_->receive(timeout);
  if (!message) co_return message.error().code;
  co_return std::move(message).value();
}

task<result_or_failure<local_message>> context::receive_message_or_failure(duration timeout) {
  return box_->receive(timeout);
}

task<result<>> context::start_worker_ptr(std::vector<nodus::address> addresses, std::shared_ptr<worker_base> w,
                                         worker_options options) {
  return node_->start_worker(std::move(addresses), std::move(w), std::move(options));
}

task<result<>> context::start_processor_ptr(nodus::address at, std::shared_ptr<processor> p, worker_options options) {
  return node_->start_processor(std::move(at), std::move(p), std::move(options));
}

task<result<>> context::stop_worker(nodus::address at) { return node_->stop_worker(at, box_.get()); }

std::vector<worker_info> context::list_workers() const { return node_->list(); }

task<result<>> context::sleep(duration d) { return box_->sleep(d); }

context context::new_detached(std::string_view prefix) const {
  return context(node_, node_->new_context_mailbox(prefix), true);
}

void context::stop_node() const { node_->request_stop(); }

std::string context::new_flow(std::string_view prefix) { return random_hex(prefix, 16); }

void context::expose(std::string_view flow, nodus::address at) const { node_->expose(flow, std::move(at)); }

void context::unexpose_flow(std::string_view flow) const { node_->unexpose_flow(flow); }

std::vector<std::string> context::exposures(const nodus::address& at) const { return node_->exposures(at); }

}  // namespace nodus
