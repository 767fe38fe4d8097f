// nodus project create|show|ticket|enroll|member: a project's authority on a node, its one-time
// enrollment tickets, the enrollment of an identity, and its members (docs/enrollment.md).

#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "cli.hpp"
#include "node_client.hpp"
#include "nodus/authority/client.hpp"
#include "nodus/authority/ticket.hpp"
#include "nodus/node/node.hpp"
#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/transports/tcp.hpp"
#include "project_files.hpp"
#include "verb_support.hpp"

namespace nodus::cli {
namespace {

constexpr auto enroll_timeout = std::chrono::seconds(15);

// `90s`, `10m`, `2h`, `7d` (a bare number is seconds).
std::optional<std::int64_t> parse_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (n <= 0) return std::nullopt;
  const auto unit = text.substr(used);
  if (unit.empty() || unit == "s") return n;
  if (unit == "m") return n * 60;
  if (unit == "h") return n * 3600;
  if (unit == "d") return n * 86400;
  return std::nullopt;
}

int create(const std::vector<std::string>& args) {
  verb_line v("project create", "[--at NODE] [--credential-validity DURATION] [--admin ID]... [--address HOST:PORT]",
              "  nodus project create --at hub --credential-validity 10m\n");
  std::string validity;
  std::vector<std::string> admins;
  std::string where;
  v.options.add_options()("credential-validity", po::value(&validity)->default_value("10m"),
                          "how long each credential is valid (90s, 10m, 2h, 7d): the bound on how long a deleted "
                          "member is still accepted")("admin", po::value(&admins)->composing(),
                                                      "an identifier that may also issue tickets and manage members")(
      "address", po::value(&where), "HOST:PORT members reach the node by (default: its first TCP listener)");
  if (auto done = v.parse(args)) return *done;
  auto seconds = parse_seconds(validity);
  if (!seconds) return fail(v.command, "--credential-validity is a duration such as 90s, 10m, 2h, 7d", exit_usage);
  json::value body;
  body["credential_validity_s"] = *seconds;
  body["admins"] = text_list(admins);
  if (!where.empty()) body["address"] = where;
  return run_call(v.command, v.node, "POST", "/project", body, v.format(), one("project", {"id", "authority_route"}));
}

int show(const std::vector<std::string>& args) {
  verb_line v("project show", "[--at NODE] [--output json]",
              "  nodus project show --at hub --output json > project.json\n");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/project", {}, v.format(),
                  one("project", {"id", "role", "authority_route", "members", "credential_expires_at"}));
}

int ticket(const std::vector<std::string>& args) {
  verb_line v("project ticket",
              "[--at NODE] [--attribute KEY=VALUE]... [--relay NAME|'*'] [--usage-count N] [--expires-in DURATION]",
              "  nodus project ticket --at hub --attribute role=member --relay '*' > consumer.ticket\n");
  std::vector<std::string> attributes;
  std::string relay, expires = "1h";
  std::int64_t usage = 1;
  v.options.add_options()("attribute", po::value(&attributes)->composing(),
                          "KEY=VALUE granted to who enrolls with it (repeat for several)")(
      "relay", po::value(&relay), "the relay name its member may take ('*': any)")(
      "usage-count", po::value(&usage)->default_value(1), "how many enrollments it admits")(
      "expires-in", po::value(&expires)->default_value("1h"), "how long it lasts (90s, 10m, 2h, 7d)");
  if (auto done = v.parse(args)) return *done;
  json::value body;
  json::value attrs = json::object{};
  for (const auto& a : attributes) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(v.command, "--attribute is KEY=VALUE, not '" + a + "'", exit_usage);
    attrs[a.substr(0, eq)] = a.substr(eq + 1);
  }
  body["attributes"] = std::move(attrs);
  if (!relay.empty()) body["relay"] = relay;
  body["usage_count"] = usage;
  auto seconds = parse_seconds(expires);
  if (!seconds) return fail(v.command, "--expires-in is a duration such as 90s, 10m, 2h, 7d", exit_usage);
  body["expires_in_s"] = *seconds;
  // In text, the ticket alone: `> x.ticket` is what the enrolling host needs.
  return run_call(v.command, v.node, "POST", "/project/tickets", body, v.format(), [](const json::value& r) {
    const auto* t = r.find("ticket");
    std::cout << (t && t->as_string() ? *t->as_string() : std::string()) << '\n';
  });
}

int member_list(const std::vector<std::string>& args) {
  verb_line v("project member list", "[--at NODE]", "  nodus project member list --at hub\n");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/project/members", {}, v.format(), [](const json::value& list) {
    if (!list.as_array()) return;
    for (const auto& m : *list.as_array()) {
      std::cout << *m.find("identifier")->as_string();
      if (const auto* attributes = m.find("attributes"); attributes && attributes->as_object())
        for (const auto& [name, value] : *attributes->as_object())
          std::cout << ' ' << name << '=' << (value.as_string() ? *value.as_string() : "");
      std::cout << '\n';
    }
  });
}

int member_delete(const std::vector<std::string>& args) {
  verb_line v("project member delete", "IDENTIFIER [--at NODE]", "  nodus project member delete I1234… --at hub\n");
  std::string id;
  v.options.add_options()("identifier", po::value(&id)->required(), "the member (positional)");
  v.positional.add("identifier", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/project/members/" + path_segment(id), {}, v.format(),
                  [](const json::value& r) {
                    std::cout << "deleted " << *r.find("deleted")->as_string() << "; refused everywhere within "
                              << json::dump(*r.find("refused_within_s")) << " s (when its last credential lapses)\n";
                  });
}

int member(const std::vector<std::string>& args) {
  return dispatch("project member", args, {{"list", member_list}, {"delete", member_delete}});
}

task<result<address>> connect_to(tcp_transport transport, std::string peer) {
  co_return co_await transport.connect(std::move(peer));
}
task<result_or_failure<secure_channel::channel>> channel_to(context& ctx, route to, secure_channel::options o) {
  co_return co_await secure_channel::create_secure_channel(ctx, std::move(to), std::move(o));
}
task<result_or_failure<bytes>> enroll_with(context& ctx, route to, std::string secret) {
  co_return co_await authority::enroll(ctx, std::move(to), std::move(secret), enroll_timeout);
}

// Over a secure channel from the identity to the ticket's authority: the secret for a credential.
int enroll(const std::vector<std::string>& args) {
  const std::string command = "project enroll";
  std::string ticket_file, identity_name, vault_dir;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("ticket", po::value(&ticket_file)->required(),
                                                    "the ticket's file, from `nodus project ticket` (positional)")(
      "identity", po::value(&identity_name)->required(), "the identity that enrolls (nodus identity create NAME)")(
      "vault", po::value(&vault_dir), "the identity's vault directory (default: $NODUS_HOME/vault)");
  po::positional_options_description positional;
  positional.add("ticket", 1);
  po::variables_map values;
  if (auto done = parse(command, "TICKET_FILE --identity NAME [--vault DIR]", args, options, positional, values))
    return *done;
  std::ifstream in(ticket_file);
  if (!in) return fail(command, "cannot read the ticket file '" + ticket_file + "'", exit_usage);
  std::stringstream text;
  text << in.rdbuf();
  auto t = authority::parse_ticket(text.str());
  if (!t) return fail(command, ticket_file + ": " + t.error().message(), exit_usage);
  auto project = project_info::from_parts(t.value().authority, t.value().history, t.value().route);
  if (!project) return fail(command, ticket_file + ": " + project.error().message(), exit_usage);
  const auto directory = vault_dir.empty() ? default_vault_directory() : std::filesystem::path(vault_dir);
  auto ready = load_channel_identity(directory, identity_name);
  if (!ready) return fail(command, ready.error().message());

  auto to = route::parse(t.value().route);
  if (!to || to.value().size() < 2) return fail(command, "the ticket's route '" + t.value().route + "' is not a route");
  std::vector<address> hops(to.value().begin(), to.value().end());
  const address worker = hops.back();
  hops.pop_back();
  const route to_listener(std::move(hops));
  auto n = node::create({.name = "nodus", .threads = 1});
  if (!std::getenv("NODUS_LOG")) n.log().set_level(spdlog::level::off);
  auto transport = tcp_transport::create(n);
  if (!transport) return fail(command, "cannot start the TCP transport: " + transport.error().message());
  if (const auto& first = to_listener.next(); first.type() == tcp_type) {
    auto connected = n.block_on([&](context&) { return connect_to(transport.value(), first.value()); });
    if (!connected)
      return fail(command,
                  "cannot reach the project's authority at " + first.value() + ": " + connected.error().message());
  }
  secure_channel::options o;
  o.identity = ready.value();
  o.trust = secure_channel::trust_policy::identifier(t.value().authority);
  auto channel = n.block_on([&](context& ctx) { return channel_to(ctx, to_listener, o); });
  if (!channel) return fail(command, "no secure channel to the project's authority: " + channel.error().message());
  auto credential = n.block_on([&](context& ctx) {
    return enroll_with(ctx, route{channel.value().address(), worker}, t.value().secret);
  });
  if (!credential) return fail(command, "enrollment refused: " + credential.error().message());
  auto verified = authority::verify_credential(credential.value(), project.value().authority, ready.value().id(),
                                               std::chrono::system_clock::now());
  if (!verified) return fail(command, "the authority's credential does not verify: " + verified.error().message());
  if (auto saved = save_credential(directory, identity_name, project.value().authority.id, credential.value()); !saved)
    return fail(command, saved.error().message());
  std::cout << identity_name << " " << ready.value().id() << " enrolled in project " << project.value().authority.id;
  for (const auto& [name, value] : verified.value().attributes)
    if (name != "project") std::cout << ' ' << name << '=' << value;
  std::cout << "\n";
  return 0;
}

}  // namespace

int project(const std::vector<std::string>& args) {
  return dispatch("project", args,
                  {{"create", create}, {"show", show}, {"ticket", ticket}, {"enroll", enroll}, {"member", member}});
}

}  // namespace nodus::cli
