#pragma once
// A suspended coroutine's completion handler, type-erased and move-only, so mailboxes can keep
// waiters of any handler type and resume them later from another thread.

#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/io_context.hpp>

namespace nodus::detail {

class wakeup {
public:
  wakeup() = default;
  template <class Handler>
  explicit wakeup(Handler&& h) : impl_(std::make_unique<impl<std::decay_t<Handler>>>(std::forward<Handler>(h))) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }

  /// Resumes the waiter through its own executor, never inline (the caller may hold a lock).
  /// It is deferred: called from one of the node's threads, the waiter runs next on that same
  /// thread (Asio keeps it in the thread's private queue) instead of waking another thread, and
  /// another thread is woken only when there is more than one piece of work ready. From any
  /// other thread it is an ordinary post.
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
      auto resume = [h = std::move(handler), notified]() mutable { h(notified); };
      // Straight to the io_context when that is what the polymorphic executor wraps (it always
      // is on a node): skips the type-erased require/prefer conversions on every resumption.
      using io_executor = boost::asio::io_context::executor_type;
      if constexpr (requires { executor.template target<io_executor>(); }) {
        if (auto* io = executor.template target<io_executor>()) return boost::asio::defer(*io, std::move(resume));
      }
      boost::asio::defer(executor, std::move(resume));
    }
    Handler handler;
  };
  std::unique_ptr<base> impl_;
};

}  // namespace nodus::detail
