#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include "hub_members.hpp"

#include "nodus/authority/join.hpp"
#include "nodus/authority/membership.hpp"
#include "project_files.hpp"

namespace nodus::cli {

result_or_failure<hub_membership> start_hub_membership(node& n, tcp_transport transport,
                                                       const hub_member_settings& settings,
                                                       std::shared_ptr<stream_kafka::kafka_client> kafka,
                                                       std::vector<address> services, bool& usage) {
  usage = true;
  auto file = authority::read_json(settings.project_file);
  if (!file) return file.error();
  auto project = project_info::from_json(file.value());
  if (!project) return fail(project.error().code, settings.project_file + ": " + project.error().message());
  const auto directory = settings.vault.empty() ? default_vault_directory() : std::filesystem::path(settings.vault);
  auto me = load_channel_identity(directory, settings.identity);
  if (!me) return me.error();
  if (auto held = load_credential(directory, settings.identity, project.value().authority.id); !held)
    return held.error();  // says how to enroll
  usage = false;

  authority::join_options o{.project = project.value(),
                            .vault = directory,
                            .identity_name = settings.identity,
                            .me = me.value(),
                            .connect = transport.connector()};
  auto joined = n.block_on([&](context& ctx) { return authority::join_project(ctx, o); });
  if (!joined) return fail(joined.error().code, "project " + settings.project_file + ": " + joined.error().message());
  secure_channel::options lo{.identity = me.value(), .trust = joined.value().trust};
  lo.credentials = joined.value().credentials;
  lo.expose = std::move(services);
  auto listener = n.block_on(
      [&](context& ctx) { return secure_channel::create_secure_channel_listener(ctx, hub_members_listener, lo); });
  if (!listener)
    return fail(listener.error().code, "cannot start the members' listener: " + listener.error().message());

  hub_membership m;
  const auto members = authority::members_of(project.value().authority);
  m.relays.allow = members;
  m.relays.state_directory = settings.state_directory;
  m.streams.allow = members;
  m.streams.owners = stream_kafka::stream_owners::create(std::move(kafka));
  m.project_id = project.value().authority.id;
  m.hub_id = me.value().id();
  return m;
}

}  // namespace nodus::cli
