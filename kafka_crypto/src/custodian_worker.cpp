// The custodian's worker: one request in, one reply out, every refusal logged with who asked.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/core/bytes.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/core/error.hpp"
#include "nodus/kafka_crypto/custodian.hpp"
#include "nodus/secure_channel/secure_channel.hpp"

namespace nodus::kafka_crypto {
namespace {

custodian_status status_of(std::error_code code) {
  if (code == key_error::refused) return custodian_status::refused;
  if (code == key_error::deleted) return custodian_status::deleted;
  if (code == std::errc::invalid_argument || code.category() == error_category()) return custodian_status::bad_request;
  return custodian_status::unavailable;
}

custodian_reply answer(key_custodian& c, const policy::subject& who, const custodian_request& request) {
  custodian_reply reply;
  reply.request_id = request.request_id;
  auto key = request.op == custodian_op::key_for_producing ? c.key_for_producing(who, request.topic)
                                                           : c.key_by_name(who, request.name);
  if (!key) {
    reply.status = status_of(key.error().code);
    reply.reason = key.error().message();
    return reply;
  }
  const auto age = c.now() - key.value()->created;
  reply.age = std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(age));
  // The material is copied out of the shared key: the reply owns (and wipes) its copy.
  data_key copy;
  copy.name = key.value()->name;
  copy.topic = key.value()->topic;
  copy.producer = key.value()->producer;
  copy.created = key.value()->created;
  copy.timing = key.value()->timing;
  copy.material = vault::secret(key.value()->material.view());
  reply.key = std::move(copy);
  return reply;
}

class custodian_worker final : public raw_worker {
public:
  explicit custodian_worker(std::shared_ptr<key_custodian> c) : custodian_(std::move(c)) {}

  task<result<>> handle_message(context& ctx, local_message message) override {
    const auto asking = secure_channel::asking_subject(message, custodian_->local_identity());
    const std::string& who = asking.identifier;
    const std::string shown = who.empty() ? std::string("(none)") : printable_cut(who, max_identifier_size);
    custodian_reply reply;
    auto request = decode_custodian_request(message.payload);
    if (!request) {
      reply.status = custodian_status::bad_request;
      reply.reason = "a malformed custodian request: " + request.error().message();
    } else if (who.empty()) {
      reply.request_id = request.value().request_id;
      reply.status = custodian_status::refused;
      reply.reason = "the key custodian answers only requests that come through a secure channel";
    } else {
      reply = answer(*custodian_, asking, request.value());
    }
    if (reply.status == custodian_status::ok)
      ctx.log().info("key custodian {}: key {} of topic '{}' to identity {}", ctx.address(), to_hex(reply.key->name),
                     reply.key->topic, shown);
    else
      ctx.log().warn("key custodian {}: refused identity {}: {}", ctx.address(), shown,
                     printable_cut(reply.reason, max_reason_size));
    if (message.return_route.empty()) co_return ok();
    auto payload = encode(reply);
    auto back = message.return_route;
    co_return co_await ctx.send(std::move(back), std::move(payload));
  }

private:
  std::shared_ptr<key_custodian> custodian_;
};

}  // namespace

task<result<>> start_custodian_worker(context& ctx, address at, std::shared_ptr<key_custodian> custodian) {
  co_return co_await ctx.start_worker(std::move(at), custodian_worker(std::move(custodian)));
}

}  // namespace nodus::kafka_crypto
