// The stream filters of Kafka portal connections: at the inlet, requests are tracked (and an
// ApiVersions the portal cannot read is answered here) and the answers that name brokers or
// offer versions are read whole and rewritten; at the outlet, the same answers are read to learn
// which brokers exist (and to open a portal outlet for each), and pass on unchanged.

#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)

#include <deque>

#include <fmt/format.h>

#include "frame_splitter.hpp"
#include "nodus/core/error.hpp"
#include "nodus/kafka/api.hpp"
#include "portal_state.hpp"
#include "request_tracker.hpp"

namespace nodus::kafka_portal::detail {
namespace {

void append(bytes& out, byte_view b) { out.insert(out.end(), b.begin(), b.end()); }

// Whether answers to (key, version) are to be read whole, and if so whether this portal can.
result_or_failure<bool> answer_is_read(const tracked_request& r) {
  if (r.api_key != api_key::api_versions && !names_brokers(r.api_key, r.api_version)) return false;
  const auto ours = kafka::supported_versions(r.api_key);
  if (!ours || !ours->contains(r.api_version))
    return fail(errc::unsupported_version,
                fmt::format("{} v{} answers name brokers or versions, and this portal reads only v{}-v{} of them",
                            kafka::api_name(r.api_key), r.api_version, ours ? ours->min : 0, ours ? ours->max : -1));
  return true;
}

// Reads an answer; an ApiVersions answer that does not read as the version asked is read as v0,
// the version a broker answers a request it cannot read in (as clients do).
result_or_failure<kafka::response_frame> read_answer(byte_view frame, const tracked_request& r, std::size_t max_frame) {
  const kafka::decode_limits limits{.max_frame_size = max_frame};
  auto decoded = kafka::decode_response(frame, r.api_key, r.api_version, limits);
  if (!decoded && r.api_key == api_key::api_versions && r.api_version != 0) {
    auto v0 = kafka::decode_response(frame, r.api_key, 0, limits);
    if (v0) return v0;
  }
  return decoded;
}

// An ApiVersions answer with UNSUPPORTED_VERSION: the broker cannot read the version asked
// (lower than the portal's newest, or the inlet would have answered), and says which it can;
// the client asks again. Passed on as it is: brokers' encodings of it vary (librdkafka's mock
// cluster writes a flexible array's length as its count).
bool is_unsupported_version_answer(byte_view frame, const tracked_request& r) {
  return r.api_key == api_key::api_versions && frame.size() >= 6 &&
         static_cast<std::int16_t>((frame[4] << 8) | frame[5]) == unsupported_version_error;
}

// What both filters do with a request's head: track it, in order. Read whole only those whose
// head is too short to tell (a very long client id), and at the inlet an ApiVersions request
// the portal cannot read (the inlet answers it).
// `track_when_complete` is set when the frame is held before it could be tracked.
result_or_failure<frame_action> decide_request(request_tracker& tracker, byte_view head, std::size_t size,
                                               bool answer_unknown_api_versions, bool hold_all, bool hold_produce,
                                               bool& track_when_complete) {
  auto h = read_request_head(head, head.size() == size);
  if (!h) return h.error();
  if (!h.value()) {
    track_when_complete = true;
    return frame_action::hold;
  }
  const auto& r = h.value()->request;
  if (answer_unknown_api_versions && r.api_key == api_key::api_versions && !api_versions_known(r.api_version))
    return frame_action::hold;
  if (auto sent = tracker.sent(*h.value()); !sent) return sent.error();
  return hold_all || (hold_produce && r.api_key == api_key::produce) ? frame_action::hold : frame_action::pass;
}

// A request held whole because its head was too short to read: tracked when it completes (in
// stream order). An ApiVersions request the inlet answers itself is not tracked.
result_or_failure<> track_held(request_tracker& tracker, byte_view frame, bool& track_when_complete) {
  if (!track_when_complete) return outcome::success();
  track_when_complete = false;
  auto h = read_request_head(frame, true);
  if (!h) return h.error();
  const auto& r = h.value()->request;
  if (r.api_key == api_key::api_versions && !api_versions_known(r.api_version)) return outcome::success();
  return tracker.sent(*h.value());
}

class inlet_filter final : public portal::stream_filter {
public:
  inlet_filter(std::shared_ptr<inlet_state> s, std::string endpoint)
      : state_(std::move(s)),
        endpoint_(std::move(endpoint)),
        protect_(state_->protection ? std::make_unique<connection_protection>(state_->protection) : nullptr),
        requests_(
            [this](byte_view head, std::size_t size) {
              return decide_request(tracker_, head, size, true, state_->capture != nullptr,
                                    protect_ && protect_->seals(), track_when_complete_);
            },
            state_->options.max_held_frame, 1024,
            [this](byte_view frame) { return track_held(tracker_, frame, track_when_complete_); }),
        answers_([this](byte_view head, std::size_t size) { return decide_answer(head, size); },
                 state_->options.max_held_frame, 4) {}

  task<result_or_failure<output>> from_socket(byte_view in) override {
    std::vector<piece> pieces;
    if (auto fed = requests_.feed(in, pieces); !fed) co_return failed("a request", fed.error());
    output out;
    for (auto& p : pieces) {
      if (!p.held) {
        append(out.to_peer, p.data);
        continue;
      }
      auto h = read_request_head(p.data, true);
      if (!h) co_return failed("a request", h.error());
      const auto& r = h.value()->request;
      if (r.api_key == api_key::api_versions && !api_versions_known(r.api_version)) {
        if (!tracker_.empty())
          co_return failed("a request", failure(errc::not_supported,
                                                "an ApiVersions request this portal cannot read, sent while others "
                                                "wait for their answers"));
        state_->log.debug(
            "kafka inlet '{}': {}: ApiVersions v{} is newer than this portal reads; answered "
            "UNSUPPORTED_VERSION",
            state_->at, endpoint_, r.api_version);
        append(out.to_socket, unsupported_api_versions_answer(r.correlation_id));
        continue;
      }
      if (state_->capture) state_->capture->add(true, r.api_key, r.api_version, p.data);
      if (r.api_key == api_key::produce && protect_ && protect_->seals()) {
        auto sealed = co_await protect_->seal_produce(p.data, state_->options.max_held_frame);
        if (!sealed) co_return failed("a Produce request", sealed.error());
        append(out.to_peer, kafka::with_size_prefix(sealed.value()));
        continue;
      }
      append(out.to_peer, kafka::with_size_prefix(p.data));  // tracked by decide_request or track_held
    }
    co_return out;
  }

  task<result_or_failure<bytes>> to_socket(byte_view in) override {
    std::vector<piece> pieces;
    if (auto fed = answers_.feed(in, pieces); !fed) co_return failed("an answer", fed.error()).error();
    bytes out;
    for (auto& p : pieces) {
      if (!p.held) {
        append(out, p.data);
        continue;
      }
      const auto r = held_.front();
      held_.pop_front();
      if (protect_ && r.api_key == api_key::fetch && protect_->opens()) {
        auto opened = co_await protect_->open_fetch(p.data, r, state_->options.max_held_frame);
        if (!opened) co_return failed("a Fetch answer", opened.error()).error();
        p.data = std::move(opened.value());
      } else if (protect_ && r.api_key == api_key::produce && protect_->patches_answer(r.correlation_id)) {
        auto patched = protect_->patch_produce_answer(p.data, r, state_->options.max_held_frame);
        if (!patched) co_return failed("a Produce answer", patched.error()).error();
        p.data = std::move(patched.value());
      }
      const bool read = r.api_key == api_key::api_versions || names_brokers(r.api_key, r.api_version);
      if (!read || is_unsupported_version_answer(p.data, r)) {  // held only for the capture, or "ask again"
        if (state_->capture) state_->capture->add(false, r.api_key, r.api_version, p.data);
        append(out, kafka::with_size_prefix(p.data));
        continue;
      }
      auto frame = read_answer(p.data, r, state_->options.max_held_frame);
      if (!frame) co_return failed("an answer", frame.error()).error();
      auto& body = frame.value().body;
      if (auto* versions = std::get_if<kafka::api_versions_response>(&body)) {
        restrict_versions(*versions);
        if (protect_ && protect_->opens()) cap_version(*versions, api_key::fetch, max_fetch_version_opened);
      }
      if (names_brokers(r.api_key, r.api_version)) {
        auto named = brokers_named(body);
        if (named.empty() && r.api_key != api_key::api_versions) {
          // Most Produce and Fetch answers name no broker: passed on as they came, not written again.
          if (state_->capture) state_->capture->add(false, r.api_key, r.api_version, p.data);
          append(out, kafka::with_size_prefix(p.data));
          continue;
        }
        auto local = co_await state_->ensure_listeners(std::move(named));
        if (!local) co_return failed("an answer", local.error()).error();
        const auto& map = local.value();
        rewrite_brokers(body, [&](std::int32_t id) { return map.at(id); });
      }
      auto rewritten = kafka::encode_response(frame.value());
      if (state_->capture) state_->capture->add(false, r.api_key, r.api_version, rewritten);
      append(out, kafka::with_size_prefix(rewritten));
    }
    co_return out;
  }

private:
  result_or_failure<frame_action> decide_answer(byte_view head, std::size_t) {
    auto id = response_correlation_id(head);
    if (!id) return id.error();
    auto r = tracker_.answered(id.value());
    if (!r) return r.error();
    auto read = answer_is_read(r.value());
    if (!read) return read.error();
    const bool protect =
        protect_ && ((r.value().api_key == api_key::fetch && protect_->opens()) ||
                     (r.value().api_key == api_key::produce && protect_->patches_answer(r.value().correlation_id)));
    if (!read.value() && !state_->capture && !protect) return frame_action::pass;
    held_.push_back(r.value());
    return frame_action::hold;
  }

  // A failure that closes the connection, saying what of whose it was about.
  result_or_failure<output> failed(const char* what, const failure& f) const {
    return nodus::fail(f.code, fmt::format("kafka inlet '{}': {} of {}: {}", state_->at, what, endpoint_, f.message()));
  }

  std::shared_ptr<inlet_state> state_;
  std::string endpoint_;
  std::unique_ptr<connection_protection> protect_;  // null when the inlet does not protect records
  request_tracker tracker_;
  bool track_when_complete_ = false;  // before requests_: its callbacks use it
  frame_splitter requests_, answers_;
  std::deque<tracked_request> held_;  // the requests the held answers answer, in order
};

class outlet_filter final : public portal::stream_filter {
public:
  outlet_filter(std::shared_ptr<outlet_state> s, std::string endpoint)
      : state_(std::move(s)),
        endpoint_(std::move(endpoint)),
        requests_(
            [this](byte_view head, std::size_t size) {
              return decide_request(tracker_, head, size, false, false, false, track_when_complete_);
            },
            state_->options.max_held_frame, 1024,
            [this](byte_view frame) { return track_held(tracker_, frame, track_when_complete_); }),
        answers_([this](byte_view head, std::size_t) { return decide_answer(head); }, state_->options.max_held_frame,
                 4) {}

  // The brokers' answers: read (when they name brokers) and passed on unchanged.
  task<result_or_failure<output>> from_socket(byte_view in) override {
    std::vector<piece> pieces;
    if (auto fed = answers_.feed(in, pieces); !fed) co_return failed("an answer", fed.error());
    output out;
    for (auto& p : pieces) {
      if (!p.held) {
        append(out.to_peer, p.data);
        continue;
      }
      const auto r = held_.front();
      held_.pop_front();
      if (names_brokers(r.api_key, r.api_version)) {
        auto frame = read_answer(p.data, r, state_->options.max_held_frame);
        if (!frame) co_return failed("an answer", frame.error());
        auto opened = co_await state_->ensure_outlets(brokers_named(frame.value().body));
        if (!opened) co_return failed("an answer", opened.error());
      }
      append(out.to_peer, kafka::with_size_prefix(p.data));
    }
    co_return out;
  }

  // The clients' requests (from the inlet): tracked, passed on unchanged.
  task<result_or_failure<bytes>> to_socket(byte_view in) override {
    std::vector<piece> pieces;
    if (auto fed = requests_.feed(in, pieces); !fed) co_return failed("a request", fed.error()).error();
    bytes out;
    for (auto& p : pieces) {
      if (!p.held) {
        append(out, p.data);
        continue;
      }
      append(out, kafka::with_size_prefix(p.data));  // tracked by track_held
    }
    co_return out;
  }

private:
  result_or_failure<frame_action> decide_answer(byte_view head) {
    auto id = response_correlation_id(head);
    if (!id) return id.error();
    auto r = tracker_.answered(id.value());
    if (!r) return r.error();
    // Learned from the answers that list the cluster. Produce and Fetch answers pass as they
    // arrive (reading them whole costs time at every fetch): a broker they name that this outlet
    // has no portal for yet makes the inlet's open fail, the client asks for Metadata again, and
    // that answer opens it.
    const auto key = r.value().api_key;
    if (!names_brokers(key, r.value().api_version) || key == api_key::produce || key == api_key::fetch)
      return frame_action::pass;
    auto read = answer_is_read(r.value());
    if (!read) return read.error();
    held_.push_back(r.value());
    return frame_action::hold;
  }

  result_or_failure<output> failed(const char* what, const failure& f) const {
    return nodus::fail(f.code,
                       fmt::format("kafka outlet '{}': {} from {}: {}", state_->at, what, endpoint_, f.message()));
  }

  std::shared_ptr<outlet_state> state_;
  std::string endpoint_;
  request_tracker tracker_;
  bool track_when_complete_ = false;
  frame_splitter requests_, answers_;
  std::deque<tracked_request> held_;
};

}  // namespace

portal::stream_filter_factory inlet_state::filter_factory() {
  return [weak = weak_from_this()](const std::string& endpoint) -> std::unique_ptr<portal::stream_filter> {
    auto s = weak.lock();
    if (!s) return nullptr;
    return std::make_unique<inlet_filter>(std::move(s), endpoint);
  };
}

portal::stream_filter_factory outlet_state::filter_factory() {
  return [weak = weak_from_this()](const std::string& endpoint) -> std::unique_ptr<portal::stream_filter> {
    auto s = weak.lock();
    if (!s) return nullptr;
    return std::make_unique<outlet_filter>(std::move(s), endpoint);
  };
}

}  // namespace nodus::kafka_portal::detail
