// The custodian's rules: who gets which key, when a key is replaced, and deletion. One mutex
// guards the table; making a key (the vault's file, the state file) happens under it, which
// serialises key creation, rare by design (one per topic and producer per rotation period).
#include <algorithm>

#include "custodian_state.hpp"
#include "nodus/core/error.hpp"

namespace nodus::kafka_crypto {
namespace {

auto refused(std::string reason) { return fail(make_error_code(key_error::refused), std::move(reason)); }
auto gone(std::string reason) { return fail(make_error_code(key_error::deleted), std::move(reason)); }

key_name random_name() {
  key_name name{};
  const auto random = vault::random_bytes(name.size());
  std::copy(random.begin(), random.end(), name.begin());
  return name;
}

}  // namespace

custodian_record key_custodian::state::record() const {
  custodian_record r;
  for (const auto& [name, k] : keys) r.keys.push_back(k);
  std::sort(r.keys.begin(), r.keys.end(),
            [](const kept_key& a, const kept_key& b) { return a.info.created < b.info.created; });
  r.deleted.assign(deleted.begin(), deleted.end());
  return r;
}

key_custodian::key_custodian(std::unique_ptr<state> s) : state_(std::move(s)) {}
key_custodian::~key_custodian() = default;

result_or_failure<std::shared_ptr<key_custodian>> key_custodian::open(custodian_options o) {
  if (!o.keys) return fail(std::make_error_code(std::errc::invalid_argument), "a key custodian needs a vault");
  if (auto problem = timing_problem(o.timing)) return fail(std::make_error_code(std::errc::invalid_argument), *problem);
  auto s = std::make_unique<state>();
  s->producers.insert(o.producers.begin(), o.producers.end());
  s->consumers.insert(o.consumers.begin(), o.consumers.end());
  if (!o.state_file.empty()) {
    auto record = read_custodian_record(o.state_file);
    if (!record) return std::move(record).error();
    s->deleted.insert(record.value().deleted.begin(), record.value().deleted.end());
    std::vector<vault::key_id> unwrapped;  // forgotten again if the open fails
    auto forget = [&] {
      for (const auto& id : unwrapped) (void)o.keys->remove(id);
    };
    for (auto& k : record.value().keys) {
      if (!k.wrapped.empty()) {
        if (!o.kek) {
          forget();
          return fail(std::make_error_code(std::errc::invalid_argument),
                      o.state_file.string() + ": key " + to_hex(k.info.name) +
                          " is wrapped by a KEK, and the custodian was given none");
        }
        auto key = o.kek->unwrap(k.wrapped);
        if (!key) {
          forget();
          return fail(key.error().code, "key " + to_hex(k.info.name) + " of " + o.state_file.string() + ": " +
                                            o.kek->describe() + " does not unwrap it: " + key.error().message());
        }
        auto id = o.keys->import_secret(vault::key_type::data_key, key.value().view(), vault::key_lifetime::ephemeral);
        if (!id) {
          forget();
          return fail(id.error().code,
                      "the custodian's vault cannot take key " + to_hex(k.info.name) + ": " + id.error().message());
        }
        unwrapped.push_back(id.value());
        k.vault_key = id.value();
      } else if (auto type = o.keys->type_of(k.vault_key); !type || type.value() != vault::key_type::data_key) {
        s->deleted.insert(k.info.name);
        continue;
      }
      // Oldest first: the newest key of each (topic, producer) ends up current.
      s->current[{k.info.topic, k.info.producer}] = k.info.name;
      s->keys.emplace(k.info.name, std::move(k));
    }
  }
  s->options = std::move(o);
  return std::shared_ptr<key_custodian>(new key_custodian(std::move(s)));
}

// The key as a portal uses it, its bytes read out of the vault.
static result_or_failure<shared_key> shared(const key_custodian::state& s, const kept_key& k) {
  auto material = s.options.keys->export_data_key(k.vault_key);
  if (!material)
    return fail(material.error(),
                "the custodian's vault cannot read key " + to_hex(k.info.name) + ": " + material.error().message());
  auto key = std::make_shared<data_key>();
  key->name = k.info.name;
  key->topic = k.info.topic;
  key->producer = k.info.producer;
  key->created = k.info.created;
  key->timing = k.info.timing;
  key->material = std::move(material).value();
  return shared_key(std::move(key));
}

// Makes, stores and records a new key for (topic, producer); with the mutex held.
static result_or_failure<const kept_key*> make_key(key_custodian::state& s, std::string_view producer,
                                                   std::string_view topic) {
  if (s.keys.size() >= s.options.max_keys)
    return fail(std::make_error_code(std::errc::no_buffer_space),
                "the custodian keeps " + std::to_string(s.keys.size()) + " keys, its limit: delete some first");
  // Under a KEK the vault holds the key in memory only; the state file keeps it wrapped.
  const auto lifetime =
      s.options.state_file.empty() || s.options.kek ? vault::key_lifetime::ephemeral : vault::key_lifetime::persistent;
  auto id = s.options.keys->generate(vault::key_type::data_key, lifetime);
  if (!id) return fail(id.error().code, "the custodian's vault cannot make a key: " + id.error().message());
  kept_key k{{random_name(), std::string(topic), std::string(producer), s.now(), s.options.timing}, id.value(), {}};
  if (s.options.kek) {
    auto material = s.options.keys->export_data_key(id.value());
    auto wrapped = material ? s.options.kek->wrap(material.value().view())
                            : result_or_failure<std::string>(fail(material.error(), material.error().message()));
    if (!wrapped) {
      (void)s.options.keys->remove(id.value());
      return fail(wrapped.error().code, "the custodian cannot wrap a new key with " + s.options.kek->describe() + ": " +
                                            wrapped.error().message());
    }
    k.wrapped = std::move(wrapped).value();
  }
  const key_name name = k.info.name;
  auto& kept = s.keys.emplace(name, std::move(k)).first->second;
  std::pair<std::string, std::string> slot{std::string(topic), std::string(producer)};
  std::optional<key_name> previous;
  if (auto it = s.current.find(slot); it != s.current.end()) previous = it->second;
  s.current[slot] = name;
  if (s.options.state_file.empty()) return &kept;
  auto saved = write_custodian_record(s.options.state_file, s.record());
  if (saved) return &kept;
  // Not recorded, so not handed out: a restart would not know it.
  s.keys.erase(name);
  if (previous)
    s.current[slot] = *previous;
  else
    s.current.erase(slot);
  (void)s.options.keys->remove(id.value());
  return fail(saved.error().code, "the custodian cannot record a new key: " + saved.error().message());
}

result_or_failure<shared_key> key_custodian::key_for_producing(std::string_view producer, std::string_view topic) {
  return key_for_producing(policy::subject{std::string(producer), {}}, topic);
}

result_or_failure<shared_key> key_custodian::key_by_name(std::string_view who, const key_name& name) {
  return key_by_name(policy::subject{std::string(who), {}}, name);
}

bool key_custodian::state::is_producer(const policy::subject& s) const {
  return producers.contains(s.identifier) || (options.producer_policy && options.producer_policy->allows(s));
}
bool key_custodian::state::is_consumer(const policy::subject& s) const {
  return consumers.contains(s.identifier) || (options.consumer_policy && options.consumer_policy->allows(s));
}

result_or_failure<shared_key> key_custodian::key_for_producing(const policy::subject& asking, std::string_view topic) {
  const std::string_view producer = asking.identifier;
  std::lock_guard lock(state_->mutex);
  if (!state_->is_producer(asking)) return refused("identity " + std::string(producer) + " is not an allowed producer");
  if (!valid_topic(topic))
    return fail(std::make_error_code(std::errc::invalid_argument),
                "'" + std::string(topic) + "' is not a Kafka topic name");
  const auto now = state_->now();
  if (auto it = state_->current.find(std::pair{std::string(topic), std::string(producer)});
      it != state_->current.end()) {
    const kept_key& k = state_->keys.at(it->second);
    if (now >= k.info.created && now - k.info.created < state_->options.timing.rotation) return shared(*state_, k);
  }
  auto made = make_key(*state_, producer, topic);
  if (!made) return std::move(made).error();
  return shared(*state_, *made.value());
}

result_or_failure<shared_key> key_custodian::key_by_name(const policy::subject& asking, const key_name& name) {
  const std::string_view who = asking.identifier;
  std::lock_guard lock(state_->mutex);
  const bool consumer = state_->is_consumer(asking);
  if (!consumer && !state_->is_producer(asking))
    return refused("identity " + std::string(who) + " is neither an allowed consumer nor an allowed producer");
  if (state_->deleted.contains(name))
    return gone("key " + to_hex(name) +
                " was deleted at the custodian (crypto-shredded): what it sealed cannot be read");
  auto it = state_->keys.find(name);
  if (it == state_->keys.end()) return gone("the custodian never made a key " + to_hex(name));
  if (!consumer && it->second.info.producer != who)
    return refused("identity " + std::string(who) + " is not an allowed consumer, and key " + to_hex(name) +
                   " is not one of its own as a producer");
  return shared(*state_, it->second);
}

void key_custodian::allow_producer(std::string id) {
  std::lock_guard lock(state_->mutex);
  state_->producers.insert(std::move(id));
}
void key_custodian::allow_consumer(std::string id) {
  std::lock_guard lock(state_->mutex);
  state_->consumers.insert(std::move(id));
}
bool key_custodian::revoke_producer(std::string_view id) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->producers.find(id);
  if (it == state_->producers.end()) return false;
  state_->producers.erase(it);
  return true;
}
bool key_custodian::revoke_consumer(std::string_view id) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->consumers.find(id);
  if (it == state_->consumers.end()) return false;
  state_->consumers.erase(it);
  return true;
}
std::string key_custodian::producer_policy() const {
  return state_->options.producer_policy ? state_->options.producer_policy->text() : std::string();
}
std::string key_custodian::consumer_policy() const {
  return state_->options.consumer_policy ? state_->options.consumer_policy->text() : std::string();
}

std::vector<std::string> key_custodian::producers() const {
  std::lock_guard lock(state_->mutex);
  return {state_->producers.begin(), state_->producers.end()};
}
std::vector<std::string> key_custodian::consumers() const {
  std::lock_guard lock(state_->mutex);
  return {state_->consumers.begin(), state_->consumers.end()};
}

// The bytes go first: if recording the deletion then fails, the key is still shredded, and
// the next start finds its vault key gone and counts it as deleted.
result_or_failure<> key_custodian::delete_key(const key_name& name) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->keys.find(name);
  if (it == state_->keys.end())
    return gone(state_->deleted.contains(name) ? "key " + to_hex(name) + " is already deleted"
                                               : "the custodian has no key " + to_hex(name));
  if (auto removed = state_->options.keys->remove(it->second.vault_key); !removed)
    return fail(removed.error().code, "cannot delete key " + to_hex(name) + ": " + removed.error().message());
  std::erase_if(state_->current, [&](const auto& entry) { return entry.second == name; });
  state_->keys.erase(it);
  state_->deleted.insert(name);
  if (state_->options.state_file.empty()) return outcome::success();
  return write_custodian_record(state_->options.state_file, state_->record());
}

// The KEK's calls happen without the table's mutex (they may wait on the network); a key
// deleted meanwhile is simply not recorded again.
result_or_failure<std::size_t> key_custodian::rotate_kek() {
  const auto& kek = state_->options.kek;
  if (!kek)
    return fail(std::make_error_code(std::errc::invalid_argument),
                "this custodian keeps its keys in the vault, not under a KEK");
  std::lock_guard one_at_a_time(state_->rotation);
  if (auto rotated = kek->rotate(); !rotated)
    return fail(rotated.error().code, "cannot rotate " + kek->describe() + ": " + rotated.error().message());
  std::vector<std::pair<key_name, std::string>> keys;
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& [name, k] : state_->keys)
      if (!k.wrapped.empty()) keys.emplace_back(name, k.wrapped);
  }
  for (auto& [name, wrapped] : keys) {
    auto again = kek->rewrap(wrapped);
    if (!again)
      return fail(again.error().code, "rotated " + kek->describe() + ", but cannot rewrap key " + to_hex(name) +
                                          " (it stays wrapped by the older version): " + again.error().message());
    wrapped = std::move(again).value();
  }
  std::lock_guard lock(state_->mutex);
  std::size_t rewrapped = 0;
  for (auto& [name, wrapped] : keys)
    if (auto it = state_->keys.find(name); it != state_->keys.end()) {
      it->second.wrapped = std::move(wrapped);
      ++rewrapped;
    }
  if (!state_->options.state_file.empty())
    if (auto saved = write_custodian_record(state_->options.state_file, state_->record()); !saved)
      return fail(saved.error().code,
                  "rotated " + kek->describe() + ", but cannot record the rewrapped keys: " + saved.error().message());
  return rewrapped;
}

std::string key_custodian::kek() const { return state_->options.kek ? state_->options.kek->describe() : std::string(); }

std::vector<key_info> key_custodian::list_keys() const {
  std::lock_guard lock(state_->mutex);
  std::vector<key_info> out;
  for (const auto& k : state_->record().keys) out.push_back(k.info);
  return out;
}

const key_timing& key_custodian::timing() const noexcept { return state_->options.timing; }
const std::string& key_custodian::local_identity() const noexcept { return state_->options.local_identity; }
std::chrono::system_clock::time_point key_custodian::now() const { return state_->now(); }

}  // namespace nodus::kafka_crypto
