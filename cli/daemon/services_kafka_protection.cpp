// The record protection of a Kafka inlet (kafka-producer / kafka-consumer / kafka-inlet create
// with a custodian; nodus::kafka_crypto): its `protection` object in the create request, the
// key custodian client it makes, and the local custodian `kafka-consumer create
// --allow-producer` makes when no custodian route is given.
//
//   "protection": {"seal": true | "open": true,
//                  "custodian": {"to": ROUTE, "via": LISTENER_ROUTE, "authorized": [ID] | "trust_everyone": true},
//                  "allow_producers": [ID],            // instead of "custodian": one on this node
//                  "undecryptable": "fail" | "skip" | "tag",
//                  "plaintext_topics": [TOPIC], "encrypted_fields": [PATH]}
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "node_daemon.hpp"
#include "nodus/kafka_crypto/custodian_client.hpp"
#include "service_support.hpp"

namespace nodus::cli::daemon {

namespace {

namespace kc = kafka_crypto;

constexpr const char* local_custodian_address = "kafka_custodian";

// Makes the custodian on this node that `allow_producers` asks for, with this node allowed to
// read every key, unless one is at that address already (then it is told of the producers).
task<result_or_failure<>> ensure_local_custodian(std::shared_ptr<node_state> s,
                                                 const std::vector<std::string>& producers) {
  if (auto existing = local_custodian(*s, address(local_custodian_address))) {
    for (const auto& p : producers)
      if (p.size() != 41 || p[0] != 'I')
        co_return nodus::fail(make_error_code(errc::malformed),
                              "the key custodian exists already: its policies are set when it is created "
                              "(kafka-custodian create --allow-producer POLICY); '" +
                                  p + "' is not an identifier");
    for (const auto& p : producers) existing->allow_producer(p);
    existing->allow_consumer(s->identity->id());
    co_return outcome::success();
  }
  json::value body;
  body["address"] = local_custodian_address;
  body["producers"] = json::array{};
  for (const auto& p : producers) body["producers"].push_back(p);
  body["consumers"] = json::array{};
  body["consumers"].push_back(s->identity->id());
  auto made = co_await create_kafka_custodian(s, std::move(body));
  if (made.status >= 300) {
    const auto* error = made.body.find("error");
    co_return nodus::fail(make_error_code(errc::malformed),
                          "cannot create the local key custodian: " +
                              (error && error->as_string() ? *error->as_string() : std::string("refused")));
  }
  co_return outcome::success();
}

}  // namespace

task<result_or_failure<protection_setup>> protection_of(std::shared_ptr<node_state> s, json::value p) {
  protection_setup out;
  if (!p.is_object()) co_return nodus::fail(make_error_code(errc::malformed), "'protection' is an object");
  const auto* seal = p.find("seal");
  const auto* open = p.find("open");
  out.options.seal = seal && seal->as_bool().value_or(false);
  out.options.open = open && open->as_bool().value_or(false);
  if (out.options.seal == out.options.open)
    co_return nodus::fail(make_error_code(errc::malformed),
                          "'protection' seals (a producer's inlet) or opens (a "
                          "consumer's), one of the two");
  const auto* report = p.find("report_header");
  out.options.report_header = report && report->as_bool().value_or(false);
  const auto policy_text = text_field(p, "undecryptable");
  auto policy = kc::undecryptable_policy_from(policy_text.empty() ? "fail" : policy_text);
  if (!policy) co_return policy.error();
  out.options.undecryptable = policy.value();
  if (!text_list_field(p, "plaintext_topics", out.options.plaintext_topics) ||
      !text_list_field(p, "encrypted_fields", out.options.encrypted_fields))
    co_return nodus::fail(make_error_code(errc::malformed),
                          "'plaintext_topics' and 'encrypted_fields' are lists of texts");

  std::vector<std::string> producers;
  if (!text_list_field(p, "allow_producers", producers))
    co_return nodus::fail(make_error_code(errc::malformed), "'allow_producers' is a list of identifiers");
  const auto* custodian = p.find("custodian");
  const bool routed = custodian && custodian->is_object();
  if (routed == !producers.empty())
    co_return nodus::fail(make_error_code(errc::malformed),
                          routed ? "give the custodian's route or producers to allow here, not both"
                                 : "the key custodian's route is required (or producers to allow, for a custodian "
                                   "on this node)");
  json::value way_json;
  if (!routed) {
    if (out.options.seal)
      co_return nodus::fail(make_error_code(errc::malformed),
                            "a producer's inlet needs the route to the consumers' key custodian");
    auto made = co_await ensure_local_custodian(s, producers);
    if (!made) co_return made.error();
    way_json["to"] = local_custodian_address;
  } else {
    way_json = *custodian;
  }
  auto to = route_field(way_json, "to");
  if (!to) co_return to.error();
  auto way = inlet_way_of(s, way_json, to.value());
  if (!way) co_return way.error();
  kc::custodian_client_options co;
  co.to = std::move(way.value().to);
  co.resolve = std::move(way.value().resolve);
  co.unanswered = std::move(way.value().forget);
  co.description = text_field(way_json, "via").empty() ? to.value().to_string()
                                                       : text_field(way_json, "via") + " => " + to.value().to_string();
  out.options.keys = kc::custodian_client::create(s->main->new_detached("kafka_keys."), std::move(co));
  // What node.json keeps: the custodian's route (a local one made here is restored on its own).
  out.saved = json::object{};
  for (const auto& [key, value] : *p.as_object())
    if (key != "allow_producers" && key != "custodian") out.saved[key] = value;
  out.saved["custodian"] = std::move(way_json);
  co_return out;
}

}  // namespace nodus::cli::daemon
