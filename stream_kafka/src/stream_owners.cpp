// The owners of a members-only hub's streams, kept in a compacted Kafka topic (owners.hpp says
// why there). Reading: the topic's end offset first, then pulls from 0 until that offset, so
// that "read" means every record that existed when the services started, never "what the
// consumer happened to have fetched". Requests are refused (kafka_unavailable) until then: a
// stream whose owner is not known yet must not be claimable by someone else.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "nodus/core/message_codec.hpp"
#include "nodus/stream_kafka/owners.hpp"

namespace nodus::stream_kafka {

using stream::stream_errc;
using stream::stream_error;

namespace {

constexpr std::uint32_t records_per_pull = 500;
constexpr std::size_t bytes_per_pull = 4 << 20;
constexpr std::chrono::milliseconds pull_wait{5000};

// The parties as kept: sorted, each once, without the owner.
std::vector<std::string> normalised(std::vector<std::string> parties, const std::string& owner) {
  std::sort(parties.begin(), parties.end());
  parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
  std::erase(parties, owner);
  return parties;
}

}  // namespace

bool valid_identifier(std::string_view id) noexcept {
  return id.size() == 41 && id[0] == 'I' &&
         std::all_of(id.begin() + 1, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool stream_owner::admits(std::string_view id) const {
  return !id.empty() && (id == owner || std::find(parties.begin(), parties.end(), id) != parties.end());
}

bytes encode_owner_record(const owner_record& record) { return message_codec<owner_record>::encode(record); }

result_or_failure<owner_record> decode_owner_record(byte_view value) {
  auto decoded = message_codec<owner_record>::decode(value);
  if (!decoded) return fail(decoded.error(), "a stream owner record that does not decode");
  auto& r = decoded.value();
  if (r.version != 1)
    return fail(errc::unsupported_version, fmt::format("a stream owner record of version {}", r.version));
  if (!valid_stream_name(r.stream)) return fail(errc::malformed, "a stream owner record without a valid stream name");
  if (!valid_identifier(r.owner)) return fail(errc::malformed, "a stream owner record whose owner is no identifier");
  if (r.parties.size() > stream::max_stream_parties ||
      !std::all_of(r.parties.begin(), r.parties.end(), [](auto& p) { return valid_identifier(p); }))
    return fail(errc::malformed, "a stream owner record with parties that are not identifiers");
  return std::move(decoded).value();
}

struct stream_owners::state : std::enable_shared_from_this<state> {
  std::shared_ptr<kafka_client> kafka;
  std::string topic;
  std::shared_ptr<spdlog::logger> log;

  struct entry {
    stream_owner who;
    bool recorded = false;  // in Kafka (false: claimed here, its record not acknowledged yet)
  };
  mutable std::mutex mutex;
  enum class phase { idle, reading, loaded } now = phase::idle;
  stream_error last_failure;
  std::unordered_map<std::string, entry> owners;

  void start() {
    kafka->create_stream(
        topic,
        [s = shared_from_this()](stream_error error) {
          if (error) return s->finish(std::move(error));
          s->kafka->end_offset(s->topic, [s](std::int64_t end, stream_error failed) {
            if (failed) return s->finish(std::move(failed));
            s->read(0, end);
          });
        },
        topic_settings{.compacted = true});
  }

  void read(std::int64_t from, std::int64_t end) {
    if (from >= end) return finish({});
    kafka->fetch(topic, from, records_per_pull, bytes_per_pull, pull_wait,
                 [s = shared_from_this(), end](std::vector<stream::stream_message> records, stream_error error) {
                   if (error) return s->finish(std::move(error));
                   if (records.empty())
                     return s->finish({stream_errc::kafka_unavailable,
                                       fmt::format("'{}' could not be read to its end ({}) within {} ms", s->topic, end,
                                                   pull_wait.count())});
                   for (const auto& r : records) s->apply(r);
                   s->read(records.back().index + 1, end);
                 });
  }

  // Later records replace earlier ones for the same stream, as compaction would.
  void apply(const stream::stream_message& m) {
    auto record = decode_owner_record(m.data);
    if (!record) {
      if (log) log->error("stream owners: record {} of '{}' skipped: {}", m.index, topic, record.error().message());
      return;
    }
    std::lock_guard lock(mutex);
    auto& r = record.value();
    owners[r.stream] = {stream_owner{r.owner, normalised(std::move(r.parties), r.owner)}, true};
  }

  void finish(stream_error error) {
    std::size_t count = 0;
    {
      std::lock_guard lock(mutex);
      now = error ? phase::idle : phase::loaded;
      last_failure = error;
      count = owners.size();
    }
    if (!log) return;
    if (error)
      log->warn("stream owners: cannot read '{}': {}; requests are refused until it is read", topic, error.reason);
    else
      log->info("stream owners: {} stream owner(s) read from '{}'", count, topic);
  }
};

// What a claim comes to without writing anything (a party's create, a refusal, nothing new), or
// empty when `record` is to be written; then the stream is claimed at once, so that nobody else
// can claim it while the record is on its way.
std::optional<stream_error> decide(stream_owners::state& s, const owner_record& record) {
  std::lock_guard lock(s.mutex);
  if (auto it = s.owners.find(record.stream); it != s.owners.end()) {
    const auto& held = it->second;
    if (held.who.owner != record.owner) {
      if (held.who.admits(record.owner)) return stream_error{};  // a party: nothing changes
      return stream_error{stream_errc::forbidden, fmt::format("stream '{}' belongs to {}, and is not for {}",
                                                              record.stream, held.who.owner, record.owner)};
    }
    if (held.recorded && held.who.parties == record.parties) return stream_error{};
  }
  s.owners[record.stream] = {stream_owner{record.owner, record.parties}, false};
  return std::nullopt;
}

std::shared_ptr<stream_owners> stream_owners::create(std::shared_ptr<kafka_client> kafka, std::string topic,
                                                     std::shared_ptr<spdlog::logger> log) {
  auto s = std::make_shared<state>();
  s->kafka = std::move(kafka);
  s->topic = std::move(topic);
  s->log = std::move(log);
  return std::shared_ptr<stream_owners>(new stream_owners(std::move(s)));
}

void stream_owners::load() {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->now != state::phase::idle) return;
    state_->now = state::phase::reading;
  }
  state_->start();
}

bool stream_owners::loaded() const {
  std::lock_guard lock(state_->mutex);
  return state_->now == state::phase::loaded;
}

std::optional<stream_error> stream_owners::not_ready() {
  stream_error error;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->now == state::phase::loaded) return std::nullopt;
    error = {stream_errc::kafka_unavailable,
             fmt::format("the hub has not read who owns its streams yet{}",
                         state_->last_failure ? " (" + state_->last_failure.reason + ")" : std::string())};
  }
  load();
  return error;
}

std::optional<stream_owner> stream_owners::find(const std::string& stream) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->owners.find(stream);
  if (it == state_->owners.end()) return std::nullopt;
  return it->second.who;
}

void stream_owners::claim(const std::string& stream, const std::string& who, std::vector<std::string> parties,
                          std::function<void(stream_error)> done) {
  owner_record record{1, stream, who, normalised(std::move(parties), who)};
  if (auto settled = decide(*state_, record)) return done(std::move(*settled));
  auto value = encode_owner_record(record);
  state_->kafka->produce(
      state_->topic, std::move(value),
      [s = state_, record, done = std::move(done)](std::int64_t, stream_error error) {
        if (!error) {
          std::lock_guard lock(s->mutex);
          auto it = s->owners.find(record.stream);
          if (it != s->owners.end() && it->second.who == stream_owner{record.owner, record.parties})
            it->second.recorded = true;
        }
        // Not recorded: the claim holds here, and the owner's next create writes it again.
        done(std::move(error));
      },
      stream);
}

}  // namespace nodus::stream_kafka
