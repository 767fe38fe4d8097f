#pragma once
// The end-to-end encryption options of kafka-producer, kafka-consumer and kafka-inlet create
// (docs/kafka-encryption.md): the way to the key custodian, and what the consumer's inlet does
// with what it cannot open. Written into the create request's `protection` object.

#include <string>
#include <vector>

#include "verb_support.hpp"

namespace nodus::cli {

enum class inlet_kind { inlet, consumer, producer };

struct protection_flags {
  std::string custodian;
  std::vector<std::string> custodian_authorized;
  bool custodian_everyone = false;
  std::vector<std::string> allow_producers;
  std::string undecryptable;
  std::vector<std::string> plaintext_topics, encrypted_fields;
  bool seal = false, open = false;  // kafka-inlet's explicit choice
  bool report_header = false;
};

/// The options `kind` takes (kafka-producer has no consumer-side ones).
void add_protection_options(verb_line& v, protection_flags& f, inlet_kind kind);

/// `body["protection"]` from the flags (nothing when none asks for protection), or a usage error.
std::optional<int> put_protection(const std::string& command, const protection_flags& f, inlet_kind kind,
                                  const std::string& node, json::value& body);

}  // namespace nodus::cli
