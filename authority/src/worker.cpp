// The authority's worker: one request in, one reply out, every refusal logged with who asked.
// `answer` runs to its end without suspending, so requests are decided one at a time.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/authority/authority.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::authority {
namespace {

class authority_worker final : public raw_worker {
public:
  explicit authority_worker(std::shared_ptr<authority> a) : authority_(std::move(a)) {}

  task<result<>> handle_message(context& ctx, local_message message) override {
    const std::string who = secure_channel::asking_identity(message, authority_->trusted().id);
    const std::string shown = who.empty() ? std::string("(none)") : printable_cut(who, max_identifier_size);
    authority_reply reply;
    auto request = decode_authority_request(message.payload);
    if (!request) {
      reply.status = authority_status::bad_request;
      reply.reason = "a malformed authority request: " + request.error().message();
    } else {
      reply = authority_->answer(who, request.value());
    }
    if (reply.status == authority_status::ok && request && request.value().op == authority_op::enroll)
      ctx.log().info("authority {}: enrolled identity {}", ctx.address(), shown);
    else if (reply.status != authority_status::ok)
      ctx.log().warn("authority {}: refused identity {}: {}", ctx.address(), shown,
                     printable_cut(reply.reason, max_reason_size));
    if (message.return_route.empty()) co_return ok();
    auto payload = encode(reply);
    auto back = message.return_route;
    co_return co_await ctx.send(std::move(back), std::move(payload));
  }

private:
  std::shared_ptr<authority> authority_;
};

}  // namespace

task<result<>> start_authority_worker(context& ctx, address at, std::shared_ptr<authority> a) {
  co_return co_await ctx.start_worker(std::move(at), authority_worker(std::move(a)));
}

}  // namespace nodus::authority
