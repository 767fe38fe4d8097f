// The client side: one request, one bounded wait, the reply checked against the request.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "nodus/authority/client.hpp"

#include <fmt/format.h>

#include "nodus/core/error.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::authority {
namespace {

auto unreachable(std::string why) { return fail(make_error_code(enrollment_error::unreachable), std::move(why)); }

std::uint64_t random_id() {
  auto b = vault::random_bytes(8);
  std::uint64_t id = 0;
  for (auto c : b) id = (id << 8) | c;
  return id;
}

std::string seconds_text(duration d) { return fmt::format("{} s", std::chrono::duration<double>(d).count()); }

}  // namespace

task<result_or_failure<authority_reply>> ask_authority(context& ctx, route to, authority_request request,
                                                       duration timeout) {
  context temporary = ctx.new_detached("authority.");
  request.request_id = random_id();
  const std::string where = to.to_string();
  bytes payload = encode(request);
  auto sent = co_await temporary.send(std::move(to), std::move(payload));
  if (!sent) co_return unreachable("cannot send to the authority at " + where + ": " + sent.error().message());
  auto answer = co_await temporary.receive_message_or_failure(timeout);
  if (!answer && answer.error().code == errc::timeout)
    co_return unreachable("the authority at " + where + " did not answer in " + seconds_text(timeout));
  if (!answer) co_return unreachable("the authority at " + where + " cannot be reached: " + answer.error().message());
  auto reply = decode_authority_reply(answer.value().payload);
  if (!reply)
    co_return unreachable("the authority at " + where + " answered with a malformed reply: " + reply.error().message());
  if (reply.value().request_id != request.request_id || reply.value().op != request.op)
    co_return unreachable("the authority at " + where + " answered another request than the one asked");
  if (reply.value().status != authority_status::ok)
    co_return fail(make_error_code(error_of(reply.value().status)), reply.value().reason);
  co_return std::move(reply).value();
}

task<result_or_failure<bytes>> enroll(context& ctx, route to_authority, std::string secret, duration timeout) {
  authority_request r{.op = authority_op::enroll, .secret = std::move(secret)};
  auto reply = co_await ask_authority(ctx, std::move(to_authority), std::move(r), timeout);
  if (!reply) co_return std::move(reply).error();
  co_return std::move(reply.value().credential);
}

task<result_or_failure<bytes>> refresh(context& ctx, route to_authority, duration timeout) {
  authority_request r{.op = authority_op::refresh};
  auto reply = co_await ask_authority(ctx, std::move(to_authority), std::move(r), timeout);
  if (!reply) co_return std::move(reply).error();
  co_return std::move(reply.value().credential);
}

task<result_or_failure<std::string>> request_ticket(context& ctx, route to_authority, ticket_spec spec,
                                                    duration timeout) {
  authority_request r{.op = authority_op::ticket, .ticket = std::move(spec)};
  auto reply = co_await ask_authority(ctx, std::move(to_authority), std::move(r), timeout);
  if (!reply) co_return std::move(reply).error();
  co_return std::move(reply.value().secret);
}

task<result_or_failure<std::vector<member>>> list_members(context& ctx, route to_authority, duration timeout) {
  authority_request r{.op = authority_op::members};
  auto reply = co_await ask_authority(ctx, std::move(to_authority), std::move(r), timeout);
  if (!reply) co_return std::move(reply).error();
  co_return std::move(reply.value().members);
}

task<result_or_failure<bool>> delete_member(context& ctx, route to_authority, std::string id, duration timeout) {
  authority_request r{.op = authority_op::delete_member, .identifier = std::move(id)};
  auto reply = co_await ask_authority(ctx, std::move(to_authority), std::move(r), timeout);
  if (!reply) co_return std::move(reply).error();
  co_return reply.value().deleted;
}

struct credential_keeper::state {
  state(context c, keeper_options o) : ctx(std::move(c)), options(std::move(o)) {}
  context ctx;  // only to make detached contexts from
  keeper_options options;
  mutable std::mutex mutex;
  std::shared_ptr<const bytes> wire;  // replaced, never changed: what secure channels present
  credential held;
  std::uint64_t refreshes = 0;

  time_point now() const { return options.clock ? options.clock() : std::chrono::system_clock::now(); }
  time_point due() const {  // with the mutex held
    const auto life = std::chrono::duration<double>(held.expires_at - held.issued_at) * options.refresh_at;
    return held.issued_at + std::chrono::duration_cast<time_point::duration>(life);
  }
};

credential_keeper::credential_keeper(std::shared_ptr<state> s) : state_(std::move(s)) {}

result_or_failure<std::shared_ptr<credential_keeper>> credential_keeper::create(context ctx, keeper_options o,
                                                                                bytes initial) {
  auto s = std::make_shared<state>(std::move(ctx), std::move(o));
  auto verified = verify_credential(initial, s->options.authority, s->options.subject, s->now());
  if (!verified) return std::move(verified).error();
  s->held = std::move(verified).value();
  s->wire = std::make_shared<const bytes>(std::move(initial));
  return std::shared_ptr<credential_keeper>(new credential_keeper(std::move(s)));
}

credential credential_keeper::held() const {
  std::lock_guard lock(state_->mutex);
  return state_->held;
}

std::shared_ptr<const bytes> credential_keeper::presentable() const {
  std::lock_guard lock(state_->mutex);
  return state_->wire;
}

time_point credential_keeper::refresh_due() const {
  std::lock_guard lock(state_->mutex);
  return state_->due();
}

std::uint64_t credential_keeper::refreshes() const {
  std::lock_guard lock(state_->mutex);
  return state_->refreshes;
}

task<result_or_failure<bytes>> credential_keeper::current() {
  auto s = state_;
  std::shared_ptr<const bytes> wire;
  time_point due, expires;
  {
    std::lock_guard lock(s->mutex);
    wire = s->wire;
    due = s->due();
    expires = s->held.expires_at;
  }
  if (s->now() < due) co_return *wire;
  context temporary = s->ctx.new_detached("authority.keeper.");
  auto fresh = co_await refresh(temporary, s->options.to, s->options.timeout);
  result_or_failure<credential> verified = fail(make_error_code(credential_error::malformed), "");
  if (fresh) verified = verify_credential(fresh.value(), s->options.authority, s->options.subject, s->now());
  if (fresh && verified) {
    {
      std::lock_guard lock(s->mutex);
      s->wire = std::make_shared<const bytes>(fresh.value());
      s->held = std::move(verified).value();
      ++s->refreshes;
    }
    if (s->options.on_refresh) s->options.on_refresh(fresh.value());
    co_return std::move(fresh).value();
  }
  const std::string why = fresh ? verified.error().message() : fresh.error().message();
  if (s->now() < expires) {
    s->ctx.log().warn("credential of {}: no new one ({}); presenting the one held until it expires at {}",
                      s->options.subject, why, time_text(expires));
    co_return *wire;
  }
  if (!fresh) co_return std::move(fresh).error();
  co_return std::move(verified).error();
}

}  // namespace nodus::authority
