#pragma once
// The inside of a key custodian, and the file that keeps it across restarts. Private to
// kafka_crypto/src.

#include <map>
#include <set>

#include "nodus/kafka_crypto/custodian.hpp"

namespace nodus::kafka_crypto {

/// One key as the custodian keeps it: what it is for, and where its bytes are in the vault.
struct kept_key {
  key_info info;
  vault::key_id vault_key;  ///< persistent, or ephemeral when `wrapped` is set
  std::string wrapped;      ///< under the KEK (`key_wrapper::wrap`); what the state file keeps
};

/// What the state file holds.
struct custodian_record {
  std::vector<kept_key> keys;     ///< oldest first
  std::vector<key_name> deleted;  ///< shredded names, so a later ask hears "deleted"
};

struct key_custodian::state {
  custodian_options options;
  std::mutex rotation;       // one KEK rotation at a time; taken before `mutex`
  mutable std::mutex mutex;  // guards everything below; held across the state file's I/O and the KEK's wrap
  std::set<std::string, std::less<>> producers, consumers;
  std::map<key_name, kept_key> keys;
  std::set<key_name> deleted;
  /// The current key of each (topic, producer).
  std::map<std::pair<std::string, std::string>, key_name, std::less<>> current;

  std::chrono::system_clock::time_point now() const {
    return options.clock ? options.clock() : std::chrono::system_clock::now();
  }
  /// By the lists, then the policies (with the mutex held).
  bool is_producer(const policy::subject& s) const;
  bool is_consumer(const policy::subject& s) const;
  custodian_record record() const;  // with the mutex held
};

/// The state file's contents, or a failure naming the file. A missing file is an empty record.
result_or_failure<custodian_record> read_custodian_record(const std::filesystem::path& file);
/// Writes the record atomically (temporary file, fsync, rename), mode 0600.
result_or_failure<> write_custodian_record(const std::filesystem::path& file, const custodian_record& r);

}  // namespace nodus::kafka_crypto
