// Key custodians (kafka-custodian create; nodus::kafka_crypto): the keys of end-to-end
// encrypted Kafka records, handed to allowed producers and consumers over secure channels.
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <algorithm>
#include <cctype>

#include "node_daemon.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

namespace kc = kafka_crypto;

bool is_identifier(const std::string& id) {
  return id.size() == 41 && id[0] == 'I' &&
         std::all_of(id.begin() + 1, id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// Who may be a producer (consumer): the identifiers of `key`, and its entries that are policy
// expressions (`subject.kafka = "producer"`) together with `policy_key` (as node.json keeps
// them), any of which allows.
struct allowed {
  std::vector<std::string> ids;
  std::optional<policy::policy> policy;
};
result_or_failure<allowed> allowed_field(const json::value& body, std::string_view key, std::string_view policy_key) {
  std::vector<std::string> entries;
  if (!text_list_field(body, key, entries))
    return nodus::fail(make_error_code(errc::malformed),
                       "'" + std::string(key) + "' must be a list of identifiers or policies");
  if (const auto kept = text_field(body, policy_key); !kept.empty()) entries.push_back(kept);
  allowed out;
  std::vector<std::string> expressions;
  for (const auto& e : entries) {
    if (is_identifier(e)) {
      out.ids.push_back(e);
      continue;
    }
    auto parsed = policy::parse_policy(e);
    if (!parsed) {
      // The parser's first line says what and where; the rest (the text and a caret) is for logs.
      const auto why = parsed.error().message();
      return nodus::fail(make_error_code(errc::malformed),
                         "'" + e + "' is neither an identifier nor a policy: " + why.substr(0, why.find('\n')));
    }
    expressions.push_back(parsed.value().text());
  }
  if (expressions.size() == 1) out.policy = policy::parse_policy(expressions.front()).value();
  if (expressions.size() > 1) {
    std::string joined;
    for (const auto& x : expressions) joined += (joined.empty() ? "(" : " or (") + x + ")";
    auto parsed = policy::parse_policy(joined);
    if (!parsed) return nodus::fail(make_error_code(errc::too_large), "the policies together are too long");
    out.policy = parsed.value();
  }
  return out;
}

result_or_failure<std::chrono::seconds> seconds_field(const json::value& body, std::string_view key,
                                                      std::chrono::seconds fallback) {
  const auto* v = body.find(key);
  if (!v || v->is_null()) return fallback;
  const auto n = v->as_int();
  if (!n || *n <= 0 || *n > 10ll * 365 * 24 * 3600)
    return nodus::fail(make_error_code(errc::malformed),
                       "'" + std::string(key) + "' must be a positive number of seconds (at most ten years)");
  return std::chrono::seconds(*n);
}

result_or_failure<kc::key_timing> timing_of(const json::value& body) {
  const kc::key_timing defaults;
  auto rotation = seconds_field(body, "rotation_s", defaults.rotation);
  auto rekey = seconds_field(body, "rekey_s", defaults.rekey);
  auto validity = seconds_field(body, "validity_s", defaults.validity);
  if (!rotation) return rotation.error();
  if (!rekey) return rekey.error();
  if (!validity) return validity.error();
  kc::key_timing t{rotation.value(), rekey.value(), validity.value()};
  if (auto problem = kc::timing_problem(t)) return nodus::fail(make_error_code(errc::malformed), *problem);
  return t;
}

// The custodian's state file: its address in the name, anything but [A-Za-z0-9._-] as '_'.
std::filesystem::path state_file(const node_state& s, const address& at) {
  std::string name = at.to_string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  return s.directory / ("kafka_custodian-" + name + ".json");
}

// The KEK of `body.kek` (see kafka_custodian_entry::kek), opened, then tried with a random key
// wrapped and unwrapped, so a wrong token, PIN or URL is said at once. Blocking: the transit's
// requests wait at most their timeout (5 s each) on the control's thread.
result_or_failure<std::shared_ptr<kc::key_wrapper>> open_kek(const json::value& kek) {
  auto bad = [](std::string why) { return nodus::fail(make_error_code(errc::malformed), std::move(why)); };
  const auto type = text_field(kek, "type");
  auto secret_of = [&](std::string_view field) -> result_or_failure<std::string> {
    const auto file = text_field(kek, field);
    if (file.empty()) return bad("the KEK needs '" + std::string(field) + "' (a file)");
    return kc::read_secret_file(file);
  };
  result_or_failure<std::shared_ptr<kc::key_wrapper>> opened = bad("");
  if (type == "transit") {
    auto token = secret_of("token_file");
    if (!token) return bad("the transit KEK's token: " + token.error().message());
    opened = kc::open_transit_kek({.url = text_field(kek, "url"),
                                   .key = text_field(kek, "key"),
                                   .token = std::move(token).value(),
                                   .ca_file = text_field(kek, "ca_file")});
  } else if (type == "pkcs11") {
    auto pin = secret_of("pin_file");
    if (!pin) return bad("the PKCS#11 KEK's PIN: " + pin.error().message());
    opened = kc::open_pkcs11_kek({.module = text_field(kek, "module"),
                                  .token_label = text_field(kek, "token_label"),
                                  .pin = std::move(pin).value(),
                                  .key_label = text_field(kek, "key")});
  } else {
    return bad("the KEK's 'type' is 'transit' or 'pkcs11', not '" + type + "'");
  }
  if (!opened) return opened;
  const auto probe = vault::random_bytes(32);
  auto wrapped = opened.value()->wrap(probe);
  if (!wrapped) return std::move(wrapped).error();
  auto back = opened.value()->unwrap(wrapped.value());
  if (!back) return std::move(back).error();
  if (!std::equal(probe.begin(), probe.end(), back.value().view().begin(), back.value().view().end()))
    return nodus::fail(make_error_code(errc::malformed),
                       opened.value()->describe() + ": a key wrapped and unwrapped comes back different");
  return opened;
}

// What node.json keeps of the KEK: the fields of the request that say where it is, no secret.
json::value kek_config(const json::value& kek) {
  json::value out;
  for (const char* field : {"type", "url", "key", "token_file", "ca_file", "module", "token_label", "pin_file"})
    if (const auto v = text_field(kek, field); !v.empty()) out[field] = v;
  return out;
}

json::value keys_json(const kc::key_custodian& c) {
  json::value out = json::array{};
  for (const auto& k : c.list_keys()) {
    json::value entry;
    entry["name"] = kc::to_hex(k.name);
    entry["topic"] = k.topic;
    entry["producer"] = k.producer;
    entry["created"] = iso_time(k.created);
    out.push_back(std::move(entry));
  }
  return out;
}

task<control::reply> change_access(std::shared_ptr<node_state> s, std::shared_ptr<kc::key_custodian> c, bool allow,
                                   const json::value& body) {
  const auto producer = text_field(body, "producer"), consumer = text_field(body, "consumer");
  if (producer.empty() == consumer.empty())
    co_return bad_request("give one of 'producer' and 'consumer' (an identifier)");
  const auto& id = producer.empty() ? consumer : producer;
  if (!is_identifier(id)) co_return bad_request("'" + id + "' is not an identifier (I and 40 hex digits)");
  bool changed = true;
  if (allow && !producer.empty()) c->allow_producer(id);
  if (allow && producer.empty()) c->allow_consumer(id);
  if (!allow) changed = producer.empty() ? c->revoke_consumer(id) : c->revoke_producer(id);
  if (!changed) co_return not_found(id + " is not an allowed " + (producer.empty() ? "consumer" : "producer"));
  {
    std::lock_guard lock(s->mutex);
    s->save();
  }
  control::reply r{200, {}};
  r.body[producer.empty() ? "consumer" : "producer"] = id;
  r.body[allow ? "allowed" : "revoked"] = true;
  co_return r;
}

}  // namespace

json::value kafka_custodian_config(const kafka_custodian_entry& c) {
  json::value entry;
  entry["address"] = c.at.to_string();
  entry["producers"] = json::array{};
  entry["consumers"] = json::array{};
  for (const auto& id : c.custodian->producers()) entry["producers"].push_back(id);
  for (const auto& id : c.custodian->consumers()) entry["consumers"].push_back(id);
  entry["producer_policy"] = c.custodian->producer_policy();
  entry["consumer_policy"] = c.custodian->consumer_policy();
  entry["rotation_s"] = static_cast<std::int64_t>(c.custodian->timing().rotation.count());
  entry["rekey_s"] = static_cast<std::int64_t>(c.custodian->timing().rekey.count());
  entry["validity_s"] = static_cast<std::int64_t>(c.custodian->timing().validity.count());
  if (!c.kek.is_null()) {
    entry["kek"] = c.kek;
    entry["kek_description"] = c.custodian->kek();
  }
  return entry;
}

std::shared_ptr<kc::key_custodian> local_custodian(node_state& s, const address& at) {
  std::lock_guard lock(s.mutex);
  for (const auto& c : s.kafka_custodians)
    if (c.at == at) return c.custodian;
  return nullptr;
}

task<control::reply> create_kafka_custodian(std::shared_ptr<node_state> s, json::value body) {
  auto at_text = text_field(body, "address");
  if (at_text.empty()) at_text = std::string(kc::default_custodian_address);
  auto at = address::parse(at_text);
  if (!at || !at.value().is_local()) co_return bad_request("'" + at_text + "' is not a local address");
  auto producers = allowed_field(body, "producers", "producer_policy");
  if (!producers) co_return bad_request(producers.error().message());
  auto consumers = allowed_field(body, "consumers", "consumer_policy");
  if (!consumers) co_return bad_request(consumers.error().message());
  auto timing = timing_of(body);
  if (!timing) co_return bad_request(timing.error().message());
  if (local_custodian(*s, at.value())) co_return conflict("this node already has a key custodian at " + at_text);
  std::shared_ptr<kc::key_wrapper> kek;
  json::value kek_kept;
  if (const auto* asked = body.find("kek"); asked && !asked->is_null()) {
    if (!asked->find("type")) co_return bad_request("'kek' must be an object with a 'type'");
    auto opened_kek = open_kek(*asked);
    if (!opened_kek) co_return failed("cannot use the key-encryption key: " + opened_kek.error().message());
    kek = std::move(opened_kek).value();
    kek_kept = kek_config(*asked);
  }
  auto opened = kc::key_custodian::open({.keys = s->keys,
                                         .state_file = state_file(*s, at.value()),
                                         .kek = kek,
                                         .timing = timing.value(),
                                         .producers = producers.value().ids,
                                         .consumers = consumers.value().ids,
                                         .producer_policy = producers.value().policy,
                                         .consumer_policy = consumers.value().policy,
                                         .local_identity = s->identity->id()});
  if (!opened) co_return failed("cannot open the key custodian: " + opened.error().message());
  auto ctx = s->main->new_detached("control.");
  auto started = co_await kc::start_custodian_worker(ctx, at.value(), opened.value());
  if (!started) co_return failed("cannot start the key custodian at " + at_text + ": " + started.error().message());
  std::lock_guard lock(s->mutex);
  // Reachable only through the node's secure channel listeners (and from this node itself).
  for (const auto& l : s->listeners) ctx.expose(l.listener.flow(), at.value());
  s->kafka_custodians.push_back({at.value(), opened.value(), std::move(kek_kept)});
  s->save();
  control::reply r{201, kafka_custodian_config(s->kafka_custodians.back())};
  co_return r;
}

task<control::reply> delete_kafka_custodian(std::shared_ptr<node_state> s, std::string at) {
  address worker;
  {
    std::lock_guard lock(s->mutex);
    auto it = std::find_if(s->kafka_custodians.begin(), s->kafka_custodians.end(),
                           [&](const kafka_custodian_entry& c) { return c.at.to_string() == at; });
    if (it == s->kafka_custodians.end()) co_return not_found("no key custodian at " + at);
    worker = it->at;
    s->kafka_custodians.erase(it);
    s->save();
  }
  auto ctx = s->main->new_detached("control.");
  (void)co_await ctx.stop_worker(worker);
  control::reply r{200, {}};
  r.body["deleted"] = at;
  co_return r;
}

task<control::reply> kafka_custodian_item(std::shared_ptr<node_state> s, std::string method, std::string item,
                                          json::value body) {
  const auto slash = item.find('/');
  if (slash == std::string::npos && method == "DELETE") co_return co_await delete_kafka_custodian(s, item);
  const auto at_text = item.substr(0, slash);
  const auto rest = slash == std::string::npos ? std::string() : item.substr(slash + 1);
  auto at = address::parse(at_text);
  auto custodian = at ? local_custodian(*s, at.value()) : nullptr;
  if (!custodian) co_return not_found("no key custodian at " + at_text);
  if (rest == "allow" && method == "POST") co_return co_await change_access(s, custodian, true, body);
  if (rest == "revoke" && method == "POST") co_return co_await change_access(s, custodian, false, body);
  if (rest == "keys" && method == "GET") co_return control::reply{200, keys_json(*custodian)};
  if (rest == "kek/rotate" && method == "POST") {
    // Blocking like the KEK's other calls: one request per key to a transit service.
    auto rotated = custodian->rotate_kek();
    if (!rotated) {
      if (rotated.error().code == std::errc::invalid_argument)
        co_return bad_request("the key custodian at " + at_text + " has no key-encryption key");
      co_return failed(rotated.error().message());
    }
    control::reply r{200, {}};
    r.body["address"] = at_text;
    r.body["kek"] = custodian->kek();
    r.body["rewrapped"] = static_cast<std::int64_t>(rotated.value());
    co_return r;
  }
  if (rest.starts_with("keys/") && method == "DELETE") {
    auto name = kc::key_name_from_hex(rest.substr(5));
    if (!name) co_return bad_request(name.error().message());
    auto deleted = custodian->delete_key(name.value());
    if (!deleted) co_return not_found(deleted.error().message());
    control::reply r{200, {}};
    r.body["deleted"] = kc::to_hex(name.value());
    co_return r;
  }
  co_return control::error_reply(404, "no such endpoint: " + method + " /kafka-custodians/" + item);
}

json::value kafka_custodians_json(node_state& s) {
  std::lock_guard lock(s.mutex);
  json::value out = json::array{};
  for (const auto& c : s.kafka_custodians) {
    json::value entry = kafka_custodian_config(c);
    entry["keys"] = static_cast<std::int64_t>(c.custodian->list_keys().size());
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace nodus::cli::daemon
