// The member store. Every change is made on a copy, written to the file, and only then swapped
// in, all under the store's lock: a failed write changes nothing, and no two redemptions can
// both see the last use of a ticket.
#include "nodus/authority/member_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "nodus/authority/errors.hpp"
#include "nodus/core/json.hpp"
#include "nodus/vault/atomic_file.hpp"
#include "nodus/vault/vault.hpp"

namespace nodus::authority {
namespace {

constexpr std::int64_t file_version = 1;
constexpr auto spent_tickets_kept = std::chrono::hours(24);

struct contents {
  std::map<std::string, member, std::less<>> members;
  std::map<std::string, ticket_record, std::less<>> tickets;  // by secret_sha256
};

auto refuse(enrollment_error e, std::string why) { return fail(make_error_code(e), std::move(why)); }

std::string hex(byte_view b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

json::value attributes_json(const attribute_map& a) {
  json::object o;
  for (const auto& [name, value] : a) o.emplace_back(name, value);
  return o;
}

json::value to_json(const contents& c) {
  json::value v;
  v["version"] = file_version;
  json::array members, tickets;
  for (const auto& [id, m] : c.members) {
    json::value e;
    e["identifier"] = id;
    e["attributes"] = attributes_json(m.attributes);
    e["added_at_ms"] = to_millis(m.added_at);
    members.push_back(std::move(e));
  }
  for (const auto& [hash, t] : c.tickets) {
    json::value e;
    e["secret_sha256"] = hash;
    e["attributes"] = attributes_json(t.attributes);
    e["relay"] = t.relay;
    e["usage_left"] = t.usage_left;
    e["created_at_ms"] = to_millis(t.created_at);
    e["expires_at_ms"] = to_millis(t.expires_at);
    tickets.push_back(std::move(e));
  }
  v["members"] = std::move(members);
  v["tickets"] = std::move(tickets);
  return v;
}

auto bad(std::string what) { return fail(make_error_code(errc::malformed), std::move(what)); }

std::optional<std::string> text(const json::value& v, std::string_view key) {
  const auto* f = v.find(key);
  if (!f || !f->as_string()) return std::nullopt;
  return *f->as_string();
}

std::optional<std::int64_t> number(const json::value& v, std::string_view key) {
  const auto* f = v.find(key);
  return f ? f->as_int() : std::nullopt;
}

std::optional<attribute_map> attributes_from(const json::value& v) {
  const auto* f = v.find("attributes");
  if (!f || !f->as_object()) return std::nullopt;
  attribute_map a;
  for (const auto& [name, value] : *f->as_object()) {
    if (!value.as_string()) return std::nullopt;
    a[name] = *value.as_string();
  }
  if (attributes_problem(a)) return std::nullopt;
  return a;
}

result_or_failure<contents> contents_from(const json::value& v) {
  if (number(v, "version") != file_version) return fail(make_error_code(errc::unsupported_version), "not version 1");
  const auto* members = v.find("members");
  const auto* tickets = v.find("tickets");
  if (!members || !members->as_array() || !tickets || !tickets->as_array())
    return bad("'members' and 'tickets' must be lists");
  contents c;
  for (const auto& e : *members->as_array()) {
    auto id = text(e, "identifier");
    auto attributes = attributes_from(e);
    auto added = number(e, "added_at_ms");
    if (!id || id->empty() || !attributes || !added) return bad("a member with a field missing or of the wrong type");
    c.members[*id] = member{*id, std::move(*attributes), from_millis(*added)};
  }
  for (const auto& e : *tickets->as_array()) {
    auto hash = text(e, "secret_sha256"), relay = text(e, "relay");
    auto attributes = attributes_from(e);
    auto left = number(e, "usage_left"), created = number(e, "created_at_ms"), expires = number(e, "expires_at_ms");
    if (!hash || hash->size() != 64 || !relay || !attributes || !left || *left < 0 || *left > max_usage_count ||
        !created || !expires)
      return bad("a ticket with a field missing or of the wrong type");
    c.tickets[*hash] = ticket_record{*hash,
                                     std::move(*attributes),
                                     *relay,
                                     static_cast<std::uint32_t>(*left),
                                     from_millis(*created),
                                     from_millis(*expires)};
  }
  return c;
}

std::optional<std::string> spec_problem(const ticket_spec& spec) {
  if (auto problem = attributes_problem(spec.attributes)) return problem;
  if (spec.attributes.contains(std::string(relay_attribute)))
    return "the relay attribute comes from the ticket's relay name, not from its attributes";
  if (spec.attributes.contains(std::string(project_attribute)))
    return "the project attribute is the authority's to set (its identifier, on every credential)";
  if (spec.relay.size() > max_relay_name_size) return "the relay name is over 128 bytes";
  if (spec.usage_count < 1 || spec.usage_count > max_usage_count) return "the usage count is not 1 to 1000000";
  if (spec.expires_in < std::chrono::seconds(1) || spec.expires_in > max_ticket_lifetime)
    return "the ticket's expiry is not 1 s to 366 days";
  return std::nullopt;
}

}  // namespace

struct member_store::state {
  std::filesystem::path file;
  mutable std::mutex mutex;
  contents now;

  // Writes `next` (with the lock held) and makes it the state.
  result_or_failure<> commit(contents next) {
    if (!file.empty()) {
      auto written = vault::write_file_atomically(file, json::dump(to_json(next), true) + "\n");
      if (!written)
        return refuse(enrollment_error::unavailable,
                      "the member store cannot be written: " + written.error().message());
    }
    now = std::move(next);
    return outcome::success();
  }
};

std::string secret_digest(std::string_view secret) { return hex(vault::sha256(as_bytes(secret))); }

member_store::member_store(std::unique_ptr<state> s) : state_(std::move(s)) {}
member_store::~member_store() = default;

std::shared_ptr<member_store> member_store::in_memory() {
  return std::shared_ptr<member_store>(new member_store(std::make_unique<state>()));
}

result_or_failure<std::shared_ptr<member_store>> member_store::open(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return fail(ec, directory.string() + ": cannot create the member store's directory");
  if (::chmod(directory.c_str(), 0700) != 0)
    return fail(std::error_code(errno, std::generic_category()), directory.string() + ": cannot set its mode");
  auto s = std::make_unique<state>();
  s->file = directory / "members.json";
  if (std::filesystem::exists(s->file, ec)) {
    std::ifstream in(s->file, std::ios::binary);
    if (!in) return fail(std::make_error_code(std::errc::io_error), s->file.string() + ": cannot read");
    const std::string text(std::istreambuf_iterator<char>(in), {});
    auto parsed = json::parse(text, {.max_size = 256 << 20});
    if (!parsed) return fail(parsed.error().code, s->file.string() + ": " + parsed.error().message());
    auto c = contents_from(parsed.value());
    if (!c) return fail(c.error().code, s->file.string() + ": " + c.error().message());
    s->now = std::move(c).value();
  }
  return std::shared_ptr<member_store>(new member_store(std::move(s)));
}

result_or_failure<std::string> member_store::add_ticket(const ticket_spec& spec, time_point now) {
  if (auto problem = spec_problem(spec)) return refuse(enrollment_error::bad_request, "a bad ticket: " + *problem);
  const std::string secret = hex(vault::random_bytes(32));
  ticket_record t{secret_digest(secret), spec.attributes, spec.relay, spec.usage_count, now, now + spec.expires_in};
  std::lock_guard lock(state_->mutex);
  contents next = state_->now;
  std::erase_if(next.tickets, [&](const auto& e) { return e.second.expires_at + spent_tickets_kept < now; });
  next.tickets[t.secret_sha256] = std::move(t);
  auto committed = state_->commit(std::move(next));
  if (!committed) return std::move(committed).error();
  return secret;
}

result_or_failure<member> member_store::redeem(std::string_view secret, const vault::identifier& who, time_point now) {
  const std::string digest = secret_digest(secret);
  std::lock_guard lock(state_->mutex);
  auto found = state_->now.tickets.find(digest);
  if (found == state_->now.tickets.end())
    return refuse(enrollment_error::unknown_ticket, "unknown ticket: no ticket of this authority has that secret");
  const ticket_record& t = found->second;
  if (now >= t.expires_at)
    return refuse(enrollment_error::ticket_expired, "ticket expired at " + time_text(t.expires_at));
  if (t.usage_left == 0)
    return refuse(enrollment_error::ticket_used_up, "ticket used up: it admitted every member it was made for");
  member m{who, t.attributes, now};
  if (!t.relay.empty()) m.attributes[std::string(relay_attribute)] = t.relay;
  contents next = state_->now;
  next.tickets[digest].usage_left -= 1;
  next.members[who] = m;
  auto committed = state_->commit(std::move(next));
  if (!committed) return std::move(committed).error();
  return m;
}

result_or_failure<> member_store::put_member(member m) {
  if (auto problem = attributes_problem(m.attributes)) return refuse(enrollment_error::bad_request, *problem);
  std::lock_guard lock(state_->mutex);
  contents next = state_->now;
  next.members[m.id] = m;
  return state_->commit(std::move(next));
}

result_or_failure<bool> member_store::delete_member(std::string_view id) {
  std::lock_guard lock(state_->mutex);
  auto found = state_->now.members.find(id);
  if (found == state_->now.members.end()) return false;
  contents next = state_->now;
  next.members.erase(std::string(id));
  auto committed = state_->commit(std::move(next));
  if (!committed) return std::move(committed).error();
  return true;
}

std::optional<member> member_store::find(std::string_view id) const {
  std::lock_guard lock(state_->mutex);
  auto found = state_->now.members.find(id);
  if (found == state_->now.members.end()) return std::nullopt;
  return found->second;
}

std::vector<member> member_store::members() const {
  std::lock_guard lock(state_->mutex);
  std::vector<member> out;
  for (const auto& [id, m] : state_->now.members) out.push_back(m);
  return out;
}

std::vector<ticket_record> member_store::tickets() const {
  std::lock_guard lock(state_->mutex);
  std::vector<ticket_record> out;
  for (const auto& [hash, t] : state_->now.tickets) out.push_back(t);
  return out;
}

const std::filesystem::path& member_store::file() const noexcept { return state_->file; }

}  // namespace nodus::authority
