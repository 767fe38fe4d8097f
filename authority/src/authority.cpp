// The authority's answers. Everything a request does happens in one call, with no suspension:
// the worker handles one message at a time, and the store spends a ticket under its lock, so
// nothing can come between the check of a ticket's uses and their decrement.
#include "nodus/authority/authority.hpp"

#include <algorithm>

#include "nodus/authority/errors.hpp"

namespace nodus::authority {
namespace {

auto refuse(enrollment_error e, std::string why) { return fail(make_error_code(e), std::move(why)); }

}  // namespace

authority::authority(authority_options o, trusted_authority t) : options_(std::move(o)), trusted_(std::move(t)) {}

result_or_failure<std::shared_ptr<authority>> authority::create(authority_options o) {
  if (!o.store) return fail(make_error_code(enrollment_error::bad_request), "an authority needs a member store");
  if (o.credential_validity < std::chrono::seconds(1) || o.credential_validity > max_ticket_lifetime)
    return fail(make_error_code(enrollment_error::bad_request), "a credential validity is 1 s to 366 days");
  if (!o.identity) return fail(make_error_code(enrollment_error::bad_request), "an authority needs an identity");
  auto t = trusted_authority::from_history(o.identity->history());
  if (!t) return std::move(t).error();
  auto trusted = std::move(t).value();
  return std::shared_ptr<authority>(new authority(std::move(o), std::move(trusted)));
}

const trusted_authority& authority::trusted() const noexcept { return trusted_; }
const vault::identity& authority::identity() const noexcept { return *options_.identity; }
const std::shared_ptr<member_store>& authority::store() const noexcept { return options_.store; }
time_point authority::now() const { return options_.clock ? options_.clock() : std::chrono::system_clock::now(); }

bool authority::is_admin(std::string_view who) const {
  if (who.empty()) return false;
  return who == trusted_.id || std::find(options_.admins.begin(), options_.admins.end(), who) != options_.admins.end();
}

result_or_failure<bytes> authority::credential_for(const member& m) {
  // Whole milliseconds, as on the wire, so that the signed times are the ones sent.
  const auto issued = from_millis(to_millis(now()));
  credential c{m.id, m.attributes, trusted_.id, issued, issued + options_.credential_validity, {}};
  c.attributes[std::string(project_attribute)] = trusted_.id;
  auto signed_bytes = sign_credential(std::move(c), *options_.identity);
  if (!signed_bytes)
    return refuse(enrollment_error::unavailable, "the authority cannot sign: " + signed_bytes.error().message());
  return signed_bytes;
}

authority_reply authority::answer(const std::string& who, const authority_request& request) {
  authority_reply reply;
  reply.request_id = request.request_id;
  reply.op = request.op;
  auto refused = [&](const failure& f) {
    reply.status = status_of(f.code);
    reply.reason = f.message();
    return reply;
  };
  if (who.empty())
    return refused(
        refuse(enrollment_error::bad_request, "the authority answers only requests that come through a secure channel")
            .error());
  const bool admin_op = request.op == authority_op::ticket || request.op == authority_op::members ||
                        request.op == authority_op::delete_member;
  if (admin_op && !is_admin(who))
    return refused(refuse(enrollment_error::not_an_administrator,
                          "not an administrator: " + who + " may not manage the members of the project " + trusted_.id)
                       .error());
  switch (request.op) {
    case authority_op::enroll: {
      auto m = options_.store->redeem(request.secret, who, now());
      if (!m) return refused(m.error());
      auto c = credential_for(m.value());
      if (!c) return refused(c.error());
      reply.credential = std::move(c).value();
      return reply;
    }
    case authority_op::refresh: {
      auto m = options_.store->find(who);
      if (!m)
        return refused(
            refuse(enrollment_error::not_a_member, "not a member: " + who + " is not a member of the project").error());
      auto c = credential_for(*m);
      if (!c) return refused(c.error());
      reply.credential = std::move(c).value();
      return reply;
    }
    case authority_op::ticket: {
      auto secret = options_.store->add_ticket(request.ticket, now());
      if (!secret) return refused(secret.error());
      reply.secret = std::move(secret).value();
      return reply;
    }
    case authority_op::members: reply.members = options_.store->members(); return reply;
    case authority_op::delete_member: {
      auto deleted = options_.store->delete_member(request.identifier);
      if (!deleted) return refused(deleted.error());
      reply.deleted = deleted.value();
      return reply;
    }
  }
  return refused(refuse(enrollment_error::bad_request, "an unknown op").error());
}

}  // namespace nodus::authority
