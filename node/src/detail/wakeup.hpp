#pragma once
// A suspended coroutine's completion handler, type-erased and move-only, so mailboxes can keep
// waiters of any handler type and resume them later from another thread.
//
// Resuming is the hot path of local messaging (every message to an idle worker resumes its
// drain loop), so it avoids the Asio scheduler where it safely can: a resumption asked for while
// a resumption runs on a node thread joins that thread's batch and runs right after it, on the
// same thread, without a round trip through the io_context's queue and its lock. A batch hands
// what is left back to Asio after `batch_limit` resumptions, so other work still gets its turn.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

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

  /// Resumes the waiter, never inline (the caller may hold a lock). From inside a resumption on
  /// a node thread it joins that thread's batch; otherwise it is deferred through the waiter's
  /// executor, which from a node thread keeps it on that thread (Asio's private queue) instead
  /// of waking another one, and from any other thread is an ordinary post.
  void post(bool notified) {
    auto p = std::move(impl_);
    if (!p) return;
    auto* io = p->io_context();
    if (batch* b = batch::current; b && io == b->io) {
      b->pending.push_back({std::move(p), notified});
      return;
    }
    if (io) {
      boost::asio::defer(io->get_executor(),
                         [p = std::move(p), notified, io]() mutable { batch::run(*io, std::move(p), notified); });
      return;
    }
    p->post(notified);
  }

private:
  struct base {
    virtual ~base() = default;
    /// The io_context the handler runs on, when its executor is a plain io_context executor.
    virtual boost::asio::io_context* io_context() noexcept = 0;
    /// Calls the handler here and now (only from a thread running its io_context).
    virtual void invoke(bool notified) = 0;
    /// Defers the handler through its own executor.
    virtual void post(bool notified) = 0;
  };
  template <class Handler>
  struct impl final : base {
    explicit impl(Handler&& h) : handler(std::move(h)) {}
    boost::asio::io_context* io_context() noexcept override {
      using io_executor = boost::asio::io_context::executor_type;
      auto executor = boost::asio::get_associated_executor(handler);
      if constexpr (requires { executor.template target<io_executor>(); }) {
        if (auto* io = executor.template target<io_executor>()) return &io->context();
      }
      return nullptr;
    }
    void invoke(bool notified) override { handler(notified); }
    void post(bool notified) override {
      auto executor = boost::asio::get_associated_executor(handler);
      boost::asio::defer(executor, [h = std::move(handler), notified]() mutable { h(notified); });
    }
    Handler handler;
  };

  struct pending_resume {
    std::unique_ptr<base> handler;
    bool notified;
  };

  /// The resumptions queued on this thread while one of them runs.
  struct batch {
    static constexpr std::size_t batch_limit = 16;
    static inline thread_local batch* current = nullptr;

    boost::asio::io_context* io;
    std::vector<pending_resume>& pending;  // the thread's own, reused from batch to batch
    std::size_t next = 0;

    static void run(boost::asio::io_context& io, std::unique_ptr<base> first, bool notified) {
      if (current) return first->invoke(notified);  // not expected: Asio does not nest handlers here
      static thread_local std::vector<pending_resume> storage;
      batch b{&io, storage, 0};
      current = &b;
      struct end_batch {  // also on an exception: the rest go back to Asio, in order
        batch& b;
        ~end_batch() {
          current = nullptr;
          for (; b.next < b.pending.size(); ++b.next) {
            auto& r = b.pending[b.next];
            boost::asio::defer(b.io->get_executor(), [p = std::move(r.handler), n = r.notified, io = b.io]() mutable {
              batch::run(*io, std::move(p), n);
            });
          }
          b.pending.clear();
        }
      } guard{b};
      first->invoke(notified);
      first.reset();
      for (std::size_t ran = 1; b.next < b.pending.size() && ran < batch_limit; ++ran) {
        auto r = std::move(b.pending[b.next++]);
        r.handler->invoke(r.notified);
      }
    }
  };

  std::unique_ptr<base> impl_;
};

}  // namespace nodus::detail
