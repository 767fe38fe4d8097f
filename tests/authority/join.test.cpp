// A member joining its project at start (nodus/authority/join.hpp), as nodes, `nodus hub
// --project` and the guide's Alice and Bob do: its credential from the vault directory, replaced
// through a channel to the authority when it expired while the member was away, the new one
// written back to the vault; a member that never enrolled is told how to.
#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>

#include "authority_fixture.hpp"
#include "nodus/authority/join.hpp"
#include "nodus/authority/project_file.hpp"

using namespace nodus;
using namespace nodus::test;

namespace {

namespace fs = std::filesystem;

struct temporary_vault {
  fs::path path = fs::temp_directory_path() / ("nodus-join-test-" + std::to_string(::getpid()));
  temporary_vault() { fs::create_directories(path); }
  ~temporary_vault() { fs::remove_all(path); }
};

task<result_or_failure<au::joined_project>> join_task(context& ctx, au::join_options o) {
  co_return co_await au::join_project(ctx, std::move(o));
}

}  // namespace

TEST_CASE("a member whose credential expired while away joins with a fresh one, kept in its vault") {
  authority_fixture f;
  temporary_vault v;
  const auto real_now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  *f.clock.ms = real_now - 3 * 3600 * 1000;  // enrolled three hours ago: the credential (1 h) expired
  const auto secret = f.ticket({.attributes = {{"role", "member"}}});
  auto enrolled = f.enroll(f.channel_for(f.alice), secret);
  REQUIRE_MESSAGE(enrolled, enrolled.error().message());
  const auto project_id = f.project->trusted().id;
  REQUIRE(au::save_credential(v.path, "alice", project_id, enrolled.value()));
  *f.clock.ms = real_now;

  au::project_info info{f.project->trusted(), f.authority_identity_raw.history().encode(),
                        "1#" + f.keeper.bound + " => listener => authority"};
  au::join_options o{.project = info,
                     .vault = v.path,
                     .identity_name = "alice",
                     .me = f.alice,
                     .connect = f.remote.transport.connector()};
  auto joined = f.remote.n.block_on([&](context& ctx) { return join_task(ctx, o); });
  REQUIRE_MESSAGE(joined, joined.error().message());
  const auto held = joined.value().keeper->held();
  CHECK(held.issued_at == f.clock.now());
  auto kept = au::load_credential(v.path, "alice", project_id);
  REQUIRE(kept);
  CHECK(kept.value() != enrolled.value());
  CHECK(kept.value() == *joined.value().keeper->presentable());
  CHECK(au::verify_credential(kept.value(), info.authority, f.alice.id(), f.clock.now()));

  // Bob never enrolled: the failure says how to.
  o.identity_name = "bob";
  o.me = f.bob;
  o.hop = "project_authority_bob";
  o.refresher = "refresher_bob";
  auto refused = f.remote.n.block_on([&](context& ctx) { return join_task(ctx, o); });
  REQUIRE_FALSE(refused);
  CHECK_MESSAGE(refused.error().message().find("nodus project enroll") != std::string::npos, refused.error().message());
}
