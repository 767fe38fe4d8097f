// examples/kafka/identity_options.hpp — who Alice and Bob are, and whom they trust: the options
// both programs share (not in the Rust guide, which makes a new identity each run and trusts
// everyone).
//
//   --identity NAME --vault DIR   a stored identity (made on first use, the same identifier on
//                                 every run; see `nodus identity create NAME --vault DIR`)
//   --trust ID                    accept only the peer with this identifier
//   --trust-everyone              the guide's behaviour: accept anyone who completes a handshake
//   --project FILE                enrolled: accept only the project's members, presenting the
//                                 identity's credential (project.json from `nodus project show`;
//                                 the identity enrolled with `nodus project enroll`; membership.hpp)
//   --party ID                    with --project: the other member the streams are for (Bob names
//                                 Alice; the hub refuses everyone else)
//
// One of --trust, --trust-everyone and --project is required: a channel that trusts everyone
// talks to whoever answers, so that has to be asked for.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>

#include "nodus/secure_channel/secure_channel.hpp"
#include "nodus/vault/identity.hpp"
#include "nodus/vault/vault.hpp"

namespace examples {

struct identity_options {
  std::string identity;
  std::string vault;
  std::string trust;
  bool trust_everyone = false;
  std::string project;
  std::string party;

  /// The usage text of these options.
  static constexpr const char* usage =
      "[--identity NAME --vault DIR] (--trust ID | --trust-everyone | --project project.json --identity NAME [--vault "
      "DIR] [--party ID])";

  /// Takes the option at argv[i] (and its value) if it is one of these; false if it is not.
  bool take(int argc, char** argv, int& i) {
    const std::string option = argv[i];
    if (option == "--trust-everyone") return trust_everyone = true;
    std::string* value = option == "--identity"  ? &identity
                         : option == "--vault"   ? &vault
                         : option == "--trust"   ? &trust
                         : option == "--project" ? &project
                         : option == "--party"   ? &party
                                                 : nullptr;
    if (!value || i + 1 >= argc) return false;
    *value = argv[++i];
    return true;
  }

  /// What is wrong with the options as given (one line), or empty.
  std::string mistake(const char* peer) {
    if (!project.empty()) {
      if (identity.empty()) return "--project needs --identity NAME (the identity enrolled in it)";
      if (!trust.empty() || trust_everyone) return "--project trusts the project's members: no --trust with it";
      if (vault.empty()) vault = default_vault();
      return {};
    }
    if (!party.empty()) return "--party names the other member of a project's streams: it goes with --project";
    if (identity.empty() != vault.empty()) return "--identity and --vault go together";
    if (trust.empty() == !trust_everyone)
      return std::string("say whom to trust: --trust ID (") + peer +
             "'s identifier, as printed) or --trust-everyone (the guide's behaviour)";
    return {};
  }

  /// Where `nodus identity create` and `nodus project enroll` keep identities: $NODUS_HOME/vault.
  static std::string default_vault() {
    const char* home = std::getenv("NODUS_HOME");
    if (home && *home) return std::string(home) + "/vault";
    const char* user = std::getenv("HOME");
    return std::string(user ? user : ".") + "/.nodus/vault";
  }

  /// The identity (stored, or new in memory), made ready for handshakes.
  nodus::result_or_failure<nodus::secure_channel::channel_identity> load() const {
    nodus::result_or_failure<nodus::vault::identity> id =
        nodus::vault::identity::create(nodus::vault::vault::create_in_memory());
    if (!vault.empty()) {
      auto opened = nodus::vault::vault::open_directory(vault);
      if (!opened) return opened.error();
      id = nodus::vault::identity_store(opened.value()).load_or_create(identity);
    }
    if (!id) return id.error();
    return nodus::secure_channel::channel_identity::create(std::move(id).value());
  }

  /// The trust policy asked for (with --project: membership.hpp's).
  nodus::secure_channel::trust_policy policy() const {
    return trust_everyone ? nodus::secure_channel::trust_policy::everyone()
                          : nodus::secure_channel::trust_policy::identifier(trust);
  }
};

}  // namespace examples
