#include "nodus/node/node.hpp"

#include "detail/context_access.hpp"
#include "detail/node_impl.hpp"

namespace nodus {

node node::create(node_options options) {
  auto impl = std::make_shared<detail::node_impl>(std::move(options));
  impl->start_threads();
  return node(std::move(impl));
}

node::node(std::shared_ptr<detail::node_impl> impl) : impl_(std::move(impl)) {}
node::node(node&&) noexcept = default;

node& node::operator=(node&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

node::~node() {
  if (impl_) impl_->stop();
}

const std::string& node::name() const noexcept { return impl_->options().name; }

spdlog::logger& node::log() const noexcept { return impl_->log(); }

context node::create_context(std::string_view prefix) {
  return detail::context_access::make(impl_, impl_->new_context_mailbox(prefix), true);
}

result<> node::run_blocking(std::function<task<>(context&)> f) { return impl_->run_blocking(std::move(f)); }

result<> node::stop_worker(address at) {
  return block_on([&](context& ctx) { return ctx.stop_worker(std::move(at)); });
}

std::vector<worker_info> node::list_workers() const { return impl_->list(); }

void node::run() {
  impl_->wait_for_stop_request();
  impl_->stop();
}

void node::request_stop() { impl_->request_stop(); }

void node::stop() { impl_->stop(); }

void node::register_transport(address::transport_type type, address handler) {
  impl_->register_transport(type, std::move(handler));
}

}  // namespace nodus
