// Golden frames from other Kafka implementations (tests/kafka/vectors/README.md): every frame
// decodes (the APIs with a full codec to the values those implementations decoded), and
// re-encodes to the same bytes. Also any capture in the same format named by NODUS_KAFKA_FRAMES.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "golden_support.hpp"
#include "nodus/kafka/frame.hpp"

using namespace nodus;
using namespace nodus::kafka;
using kafka_test::compare_json;
using kafka_test::from_hex;

namespace {

struct tally {
  int checked = 0, decoded = 0, passed_through = 0;
  std::vector<std::string> failures;
  void fail(const std::string& name, const std::string& why) { failures.push_back(name + ": " + why); }
};

const json::value& member(const json::value& v, const char* key) {
  static const json::value null;
  const auto* m = v.find(key);
  return m ? *m : null;
}
std::string text(const json::value& v, const char* key) {
  const auto* s = member(v, key).as_string();
  return s ? *s : std::string();
}
std::int64_t number(const json::value& v, const char* key) { return member(v, key).as_int().value_or(-1); }

void compare_body(const json::value& expected, const json::value& actual, const std::string& name, tally& t) {
  if (expected.is_null()) return;
  std::vector<std::string> differences;
  compare_json(expected, actual, "body", differences);
  for (const auto& d : differences) t.fail(name, d);
}

// Whether this build should decode (api, version) fully.
bool should_decode(std::int16_t key, std::int16_t version) {
  auto range = supported_versions(key);
  return range && range->contains(version);
}

void check_request(const std::string& name, byte_view frame, const json::value& header, const json::value& body,
                   tally& t) {
  auto r = decode_request(frame);
  if (!r) return t.fail(name, r.error().message());
  const auto& h = r.value().header;
  if (header.is_object()) {
    const auto expected_client = member(header, "client_id");
    if (number(header, "request_api_key") != h.api_key || number(header, "request_api_version") != h.api_version ||
        number(header, "correlation_id") != h.correlation_id ||
        number(header, "header_version") != r.value().header_version ||
        (expected_client.is_null() ? h.client_id.has_value() : text(header, "client_id") != h.client_id.value_or("")))
      t.fail(name, "header " + json::dump(header) + " vs ours " + json::dump(to_json(r.value())));
  }
  if (should_decode(h.api_key, h.api_version) != r.value().decoded()) t.fail(name, "decoded or not, wrongly");
  if (r.value().decoded()) {
    ++t.decoded;
    compare_body(body, member(to_json(r.value()), "body"), name, t);
  } else {
    ++t.passed_through;
  }
  if (encode_request(r.value()) != bytes(frame.begin(), frame.end())) t.fail(name, "re-encoded to other bytes");
}

void check_response(const std::string& name, byte_view frame, std::int16_t key, std::int16_t version,
                    const json::value& header, const json::value& body, tally& t) {
  auto r = decode_response(frame, key, version);
  if (!r) return t.fail(name, r.error().message());
  if (header.is_object() && (number(header, "correlation_id") != r.value().header.correlation_id ||
                             number(header, "header_version") != r.value().header_version))
    t.fail(name, "header " + json::dump(header) + " vs ours " + json::dump(to_json(r.value())));
  if (should_decode(key, version) != r.value().decoded()) t.fail(name, "decoded or not, wrongly");
  if (r.value().decoded()) {
    ++t.decoded;
    compare_body(body, member(to_json(r.value()), "body"), name, t);
  } else {
    ++t.passed_through;
  }
  if (encode_response(r.value()) != bytes(frame.begin(), frame.end())) t.fail(name, "re-encoded to other bytes");
}

// A message body alone (no size, no header), e.g. sarama's.
void check_body(const std::string& name, const std::string& message, std::int16_t version, byte_view data,
                const json::value& expected, tally& t) {
  const auto* api = find_api(message);
  if (!api) return t.fail(name, "no API named " + message);
  const bool request = message.ends_with("Request");
  json::value ours;
  bytes again;
  if (request) {
    auto b = decode_request_body(api->key, version, data);
    if (!b) return t.fail(name, b.error().message());
    ours = std::visit([&](const auto& x) { return x.to_json(version); }, b.value());
    encode_body(b.value(), version, again);
  } else {
    auto b = decode_response_body(api->key, version, data);
    if (!b) return t.fail(name, b.error().message());
    ours = std::visit([&](const auto& x) { return x.to_json(version); }, b.value());
    encode_body(b.value(), version, again);
  }
  ++t.decoded;
  compare_body(expected, ours, name, t);
  if (again != bytes(data.begin(), data.end())) t.fail(name, "re-encoded to other bytes");
}

// One item of a capture (tansu_client_frames.json's format): `frame_hex` with its 4-byte size.
void check_capture_item(const json::value& item, tally& t) {
  ++t.checked;
  const auto name = text(item, "test").empty() ? "item " + std::to_string(t.checked) : text(item, "test");
  const auto frame = from_hex(text(item, "frame_hex"));
  if (frame.size() < 4) return t.fail(name, "no 4-byte size");
  const auto size = std::uint32_t{frame[0]} << 24 | std::uint32_t{frame[1]} << 16 | frame[2] << 8 | frame[3];
  if (size != frame.size() - 4) return t.fail(name, "the size prefix says " + std::to_string(size));
  const auto body = byte_view(frame).subspan(4);
  const auto& header = member(item, "header");
  const auto& decoded = member(item, "decoded_with_apache_spec");
  if (text(item, "kind") == "request") return check_request(name, body, header, decoded, t);
  const auto* api = find_api(text(item, "api"));
  if (!api) return t.fail(name, "no API named " + text(item, "api"));
  check_response(name, body, api->key, static_cast<std::int16_t>(number(item, "api_version")), header, decoded, t);
}

void report(const char* what, const tally& t) {
  std::printf("%s: %d frames checked, %d decoded fully, %d passed through after their header, %zu failed\n", what,
              t.checked, t.decoded, t.passed_through, t.failures.size());
  for (const auto& f : t.failures) FAIL_CHECK(f);
}

std::vector<std::string> split_words(const std::string& snake) {
  std::vector<std::string> words;
  std::stringstream in(snake);
  for (std::string w; std::getline(in, w, '_');)
    if (!w.empty()) words.push_back(w);
  return words;
}

json::value load(const std::string& file) {
  std::string error;
  auto path = kafka_test::vectors_dir();
  path.append("/").append(file);
  auto v = kafka_test::load_json(path, error);
  REQUIRE_MESSAGE(error.empty(), error);
  return v;
}

}  // namespace

TEST_CASE("tansu's captured client frames decode to their values and re-encode byte for byte") {
  const auto doc = load("tansu_client_frames.json");
  tally t;
  for (const auto& item : *member(doc, "items").as_array()) check_capture_item(item, t);
  report("tansu_client_frames.json", t);
  CHECK(t.checked == 76);
  // What this build decodes fully there: ApiVersions, Metadata, FindCoordinator, DescribeCluster,
  // Produce, Fetch, ListOffsets, SaslHandshake, InitProducerId; the group and admin APIs pass.
  CHECK(t.decoded == 45);
  CHECK(t.passed_through == 31);
}

TEST_CASE("sarama's bodies decode to their values and re-encode byte for byte") {
  const auto doc = load("sarama_golden.json");
  tally t;
  for (const auto& m : *member(doc, "messages").as_array()) {
    ++t.checked;
    check_body(text(m, "name"), text(m, "message"), static_cast<std::int16_t>(number(m, "api_version")),
               from_hex(text(m, "hex")), member(m, "decoded_with_apache_spec"), t);
  }
  report("sarama_golden.json", t);
  CHECK(t.checked == 39);
  CHECK(t.decoded == 39);
}

TEST_CASE("kafka-protocol-rs and kafka-python bodies, headers and frames decode and re-encode") {
  const auto doc = load("other_client_golden.json");
  tally t;
  for (const auto& m : *member(doc, "items").as_array()) {
    ++t.checked;
    const auto name = text(m, "name"), framing = text(m, "framing");
    const auto data = from_hex(text(m, "hex"));
    const auto version = static_cast<std::int16_t>(number(m, "api_version"));
    const auto& expected = member(m, "decoded_with_apache_spec");
    if (framing.starts_with("BODY ONLY")) {
      check_body(name, text(m, "message"), version, data, expected, t);
    } else if (text(m, "message") == "RequestHeader") {
      auto h = decode_request_header(data);
      if (!h) {
        t.fail(name, h.error().message());
        continue;
      }
      ++t.passed_through;
      const auto& header = h.value().first;
      if (h.value().second != data.size() || header.api_key != number(expected, "RequestApiKey") ||
          header.api_version != number(expected, "RequestApiVersion") ||
          header.correlation_id != number(expected, "CorrelationId") || header.client_id != text(expected, "ClientId"))
        t.fail(name, "header differs");
    } else {  // a request header and body, without the size
      const auto& h = member(m, "decoded_header");
      const json::value header =
          json::object{{"request_api_key", member(h, "api_key")},
                       {"request_api_version", member(h, "api_version")},
                       {"correlation_id", member(h, "correlation_id")},
                       {"client_id", member(h, "client_id")},
                       {"header_version", request_header_version(static_cast<std::int16_t>(number(h, "api_key")),
                                                                 static_cast<std::int16_t>(number(h, "api_version")))}};
      check_request(name, data, header, expected, t);
    }
  }
  report("other_client_golden.json", t);
  CHECK(t.checked == 5);
  CHECK(t.decoded == 4);
}

TEST_CASE("the golden examples decode to their values and re-encode byte for byte") {
  const auto doc = load("kafka_golden_examples.json");
  const auto sarama = load("sarama_golden.json");
  tally t;
  int record_batches = 0;
  for (const auto& e : *member(doc, "examples").as_array()) {
    const auto label = text(e, "label"), framing = text(e, "framing");
    const auto data = from_hex(text(e, "hex"));
    const auto& decoded = member(e, "decoded");
    if (framing == "bare RecordBatch v2") {
      ++record_batches;  // nodus::kafka_records' (kafka/records)
      continue;
    }
    ++t.checked;
    if (framing.starts_with("BODY ONLY")) {  // a sarama body: its message and version are in sarama_golden.json
      for (const auto& m : *member(sarama, "messages").as_array())
        if ("sarama " + text(m, "name") == label)
          check_body(label, text(m, "message"), static_cast<std::int16_t>(number(m, "api_version")), data, decoded, t);
      continue;
    }
    const auto& header = member(decoded, "header");
    const auto body = byte_view(data).subspan(4);
    if (header.find("request_api_key")) {
      check_request(label, body, header, member(decoded, "body"), t);
      continue;
    }
    // A response: its API and version from the label (`fetch_response_v12_001`) or the meaning
    // (`real broker FetchResponse v10: ...`).
    std::smatch match;
    const auto meaning = text(e, "meaning");
    std::string api;
    std::int16_t version = -1;
    if (std::regex_search(label, match, std::regex("^([a-z_]+)_response_v([0-9]+)_"))) {
      for (const auto& word : split_words(match[1].str())) api += char(std::toupper(word[0])) + word.substr(1);
      version = static_cast<std::int16_t>(std::stoi(match[2].str()));
    } else if (std::regex_search(meaning, match, std::regex("([A-Za-z]+)Response v([0-9]+)"))) {
      api = match[1].str();
      version = static_cast<std::int16_t>(std::stoi(match[2].str()));
    }
    const auto* info = find_api(api);
    if (!info) {
      t.fail(label, "cannot tell which API this response answers");
      continue;
    }
    check_response(label, body, info->key, version, header, member(decoded, "body"), t);
  }
  report("kafka_golden_examples.json", t);
  CHECK(t.checked == 14);
  CHECK(t.decoded == 14);
  CHECK(record_batches == 2);
}

TEST_CASE("the capture named by NODUS_KAFKA_FRAMES decodes and re-encodes byte for byte") {
  const char* path = std::getenv("NODUS_KAFKA_FRAMES");
  if (!path || !*path) {
    std::printf("NODUS_KAFKA_FRAMES is not set: no capture to check\n");
    return;
  }
  std::string error;
  const auto doc = kafka_test::load_json(path, error);
  REQUIRE_MESSAGE(error.empty(), error);
  const auto* items = member(doc, "items").as_array();
  REQUIRE_MESSAGE(items, path << " has no `items` array");
  tally t;
  for (const auto& item : *items) check_capture_item(item, t);
  report(path, t);
  CHECK(t.checked == static_cast<int>(items->size()));
}
