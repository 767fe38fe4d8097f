#include "nodus/authority/membership.hpp"

#include <algorithm>
#include <mutex>

#include "nodus/node/worker.hpp"

namespace nodus::authority {
namespace {

time_point now_of(const clock_fn& clock) { return clock ? clock() : std::chrono::system_clock::now(); }

// Signs the authority's own credential, and again once 3/4 of its life has passed.
class self_credential {
public:
  explicit self_credential(std::shared_ptr<authority> a) : authority_(std::move(a)) {}

  std::shared_ptr<const bytes> current() {
    std::lock_guard lock(mutex_);
    const auto now = authority_->now();
    if (held_ && now < renew_at_) return held_;
    member self{authority_->trusted().id, {}, now};
    auto signed_bytes = authority_->credential_for(self);
    if (!signed_bytes) return held_;  // the one held (if any) until it expires
    auto decoded = decode_credential(signed_bytes.value());
    if (!decoded) return held_;
    const auto life = decoded.value().expires_at - decoded.value().issued_at;
    renew_at_ = decoded.value().issued_at + life * 3 / 4;
    held_ = std::make_shared<const bytes>(std::move(signed_bytes).value());
    return held_;
  }

private:
  std::shared_ptr<authority> authority_;
  std::mutex mutex_;
  std::shared_ptr<const bytes> held_;
  time_point renew_at_;
};

class credential_refresher final : public processor {
public:
  credential_refresher(std::shared_ptr<credential_keeper> keeper, duration retry)
      : keeper_(std::move(keeper)), retry_(retry) {}

  task<result<bool>> process(context& ctx) override {
    const auto wait = keeper_->refresh_due() - std::chrono::system_clock::now();
    if (wait > duration::zero()) {
      auto slept = co_await ctx.sleep(std::chrono::duration_cast<duration>(wait) + std::chrono::milliseconds(1));
      if (!slept) co_return false;
      co_return true;
    }
    const auto before = keeper_->refreshes();
    (void)co_await keeper_->current();  // logs when it cannot get a new one
    if (keeper_->refreshes() == before) {
      auto slept = co_await ctx.sleep(retry_);
      if (!slept) co_return false;
    }
    co_return true;
  }

private:
  std::shared_ptr<credential_keeper> keeper_;
  duration retry_;
};

}  // namespace

policy::policy members_of(const trusted_authority& a) {
  return policy::policy::attribute_equals(project_attribute, a.id);
}

secure_channel::trust_policy trust_members(const trusted_authority& a) {
  return secure_channel::trust_policy::allowing(members_of(a));
}

std::function<result_or_failure<secure_channel::verified_credential>(byte_view, const vault::identifier&)>
credential_verifier(trusted_authority a, clock_fn clock) {
  return [a = std::move(a), clock = std::move(clock)](
             byte_view wire,
             const vault::identifier& presenter) -> result_or_failure<secure_channel::verified_credential> {
    auto c = verify_credential(wire, a, presenter, now_of(clock));
    if (!c) return std::move(c).error();
    return secure_channel::verified_credential{std::move(c.value().attributes), c.value().expires_at};
  };
}

secure_channel::credential_options member_credentials(std::shared_ptr<credential_keeper> keeper, trusted_authority a,
                                                      clock_fn clock) {
  secure_channel::credential_options o;
  o.present = [keeper = std::move(keeper)] { return keeper->presentable(); };
  o.verify = credential_verifier(std::move(a), clock);
  o.clock = std::move(clock);
  return o;
}

secure_channel::credential_options authority_credentials(std::shared_ptr<authority> a) {
  secure_channel::credential_options o;
  o.verify = credential_verifier(a->trusted(), [a] { return a->now(); });
  o.clock = [a] { return a->now(); };
  auto self = std::make_shared<self_credential>(std::move(a));
  o.present = [self] { return self->current(); };
  return o;
}

task<result_or_failure<std::shared_ptr<credential_keeper>>> keep_credential(context& ctx, keeper_options o,
                                                                            bytes credential) {
  auto kept = credential_keeper::create(ctx.new_detached("authority.keeper."), o, credential);
  if (kept) co_return kept;
  ctx.log().info("the credential kept for {} is not usable ({}); asking the authority for a new one", o.subject,
                 kept.error().message());
  auto renewed = co_await refresh(ctx, o.to, o.timeout);
  if (!renewed)
    co_return fail(renewed.error().code, "no credential from the project's authority: " + renewed.error().message());
  if (o.on_refresh) o.on_refresh(renewed.value());
  co_return credential_keeper::create(ctx.new_detached("authority.keeper."), std::move(o), std::move(renewed).value());
}

task<result<>> start_credential_refresher(context& ctx, address at, std::shared_ptr<credential_keeper> keeper,
                                          duration retry) {
  co_return co_await ctx.start_processor(std::move(at), credential_refresher(std::move(keeper), retry));
}

}  // namespace nodus::authority
