#pragma once
// A suspended coroutine's completion handler, type-erased and move-only, so mailboxes can keep
// waiters of any handler type and resume them later from another thread.

#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>

namespace nodus::detail {

class wakeup {
public:
  wakeup() = default;
  template <class Handler>
  explicit wakeup(Handler&& h) : impl_(std::make_unique<impl<std::decay_t<Handler>>>(std::forward<Handler>(h))) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }

  /// Resumes the waiter through its own executor (never inline: the caller may hold a lock).
  void post(bool notified) {
    if (auto p = std::move(impl_)) p->post(notified);
  }

private:
  struct base {
    virtual ~base() = default;
    virtual void post(bool notified) = 0;
  };
  template <class Handler>
  struct impl final : base {
    explicit impl(Handler&& h) : handler(std::move(h)) {}
    void post(bool notified) override {
      auto executor = boost::asio::get_associated_executor(handler);
      boost::asio::post(executor, [h = std::move(handler), notified]() mutable { h(notified); });
    }
    Handler handler;
  };
  std::unique_ptr<base> impl_;
};

}  // namespace nodus::detail
