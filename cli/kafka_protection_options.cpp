#include "kafka_protection_options.hpp"

namespace nodus::cli {

void add_protection_options(verb_line& v, protection_flags& f, inlet_kind kind) {
  v.options.add_options()("custodian", po::value(&f.custodian),
                          "the route to the consumers' key custodian (/secure/LISTENER in it makes a secure "
                          "channel): record values are sealed (kafka-producer) or opened (kafka-consumer)")(
      "custodian-authorized", po::value(&f.custodian_authorized)->composing(),
      "the identifier of the custodian's node, for its secure channel (repeat for several)")(
      "custodian-trust-everyone", po::bool_switch(&f.custodian_everyone),
      "open the custodian's secure channel with any identity (choose it on purpose)")(
      "encrypted-field", po::value(&f.encrypted_fields)->composing(),
      "seal only this field of JSON values (a.b for nested ones; repeat for several)");
  if (kind == inlet_kind::producer) return;
  v.options.add_options()("allow-producer", po::value(&f.allow_producers)->composing(),
                          "keep the keys on this node, in a custodian that gives them to this producer identity, "
                          "or to the producers a policy allows ('subject.kafka = \"producer\"'; repeat for "
                          "several; instead of --custodian)")(
      "undecryptable", po::value(&f.undecryptable),
      "what a record that cannot be opened becomes: fail (the partition answers an error; the default), skip or tag")(
      "plaintext-topic", po::value(&f.plaintext_topics)->composing(),
      "a topic whose plaintext records are delivered as they are (repeat for several)")(
      "report-header", po::bool_switch(&f.report_header),
      "also report gaps and replays in a nodus.report header on the next record delivered");
  if (kind == inlet_kind::inlet)
    v.options.add_options()("seal", po::bool_switch(&f.seal), "seal the values clients produce")(
        "open", po::bool_switch(&f.open), "open the values clients fetch");
}

std::optional<int> put_protection(const std::string& command, const protection_flags& f, inlet_kind kind,
                                  const std::string& node, json::value& body) {
  const bool wanted = !f.custodian.empty() || !f.allow_producers.empty();
  const bool tuned = !f.undecryptable.empty() || !f.plaintext_topics.empty() || !f.encrypted_fields.empty() || f.seal ||
                     f.open || !f.custodian_authorized.empty() || f.custodian_everyone || f.report_header;
  if (!wanted) {
    if (tuned) return fail(command, "encryption options need --custodian ROUTE (or --allow-producer ID)", exit_usage);
    return std::nullopt;
  }
  if (!f.custodian.empty() && !f.allow_producers.empty())
    return fail(command, "give --custodian or --allow-producer, not both", exit_usage);
  if (!f.undecryptable.empty() && f.undecryptable != "fail" && f.undecryptable != "skip" && f.undecryptable != "tag")
    return fail(command, "--undecryptable is fail, skip or tag, not '" + f.undecryptable + "'", exit_usage);
  bool seal = kind == inlet_kind::producer, open = kind == inlet_kind::consumer;
  if (kind == inlet_kind::inlet) {
    if (f.seal == f.open) return fail(command, "with a custodian, kafka-inlet takes --seal or --open", exit_usage);
    seal = f.seal;
    open = f.open;
  }
  json::value p;
  p["seal"] = seal;
  p["open"] = open;
  if (!f.undecryptable.empty()) p["undecryptable"] = f.undecryptable;
  if (f.report_header) p["report_header"] = true;
  p["plaintext_topics"] = text_list(f.plaintext_topics);
  p["encrypted_fields"] = text_list(f.encrypted_fields);
  if (!f.allow_producers.empty()) {
    p["allow_producers"] = text_list(f.allow_producers);
  } else {
    user_route r;
    if (auto bad = route_option(command, f.custodian, r)) return *bad;
    if (!r.via.empty() && r.route.empty())
      return fail(command, "--custodian: name the custodian after /secure/LISTENER (.../service/kafka_custodian)",
                  exit_usage);
    json::value way;
    way["to"] = r.route;
    way["via"] = r.via;
    if (!r.via.empty()) {
      const bool neither = f.custodian_authorized.empty() && !f.custodian_everyone;
      if (f.custodian_everyone && !f.custodian_authorized.empty())
        return fail(command, "give --custodian-authorized or --custodian-trust-everyone, not both", exit_usage);
      if (neither && !node_has_project(node))  // with a project: its members
        return fail(command,
                    "the custodian's secure channel needs a trust choice: --custodian-authorized ID, "
                    "--custodian-trust-everyone, or a project whose members are trusted (node create --project)",
                    exit_usage);
      put_trust(way, f.custodian_authorized, f.custodian_everyone);
    }
    p["custodian"] = std::move(way);
  }
  body["protection"] = std::move(p);
  return std::nullopt;
}

}  // namespace nodus::cli
