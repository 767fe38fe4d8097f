// Frames and headers of every version, the flexible boundary, tagged fields, and a decoder that
// is total and bounded: what a portal relies on.
#include <doctest/doctest.h>

#include "golden_support.hpp"
#include "nodus/kafka/frame.hpp"

using namespace nodus;
using namespace nodus::kafka;
using kafka_test::from_hex;

namespace {

bytes encoded(const auto& message, std::int16_t version) {
  bytes out;
  message.encode(out, version);
  return out;
}

request_frame metadata_frame(std::int16_t version, int header_version) {
  metadata_request body;
  body.topics = std::vector<metadata_request::metadata_request_topic>{{.name = std::string("orders")}};
  request_frame f;
  f.header = {.api_key = 3, .api_version = version, .correlation_id = 42, .client_id = std::string("nodus-test")};
  f.header_version = header_version;
  f.body = body;
  return f;
}

}  // namespace

TEST_CASE("header versions follow each API's flexible versions, with Kafka's two exceptions") {
  CHECK(request_header_version(3, 8) == 1);  // Metadata: flexible from v9
  CHECK(request_header_version(3, 9) == 2);
  CHECK(response_header_version(3, 8) == 0);
  CHECK(response_header_version(3, 9) == 1);
  CHECK(request_header_version(0, 13) == 2);  // a Produce version newer than the schemas: still flexible
  CHECK(request_header_version(17, 1) == 1);  // SaslHandshake is never flexible
  CHECK(response_header_version(17, 1) == 0);
  CHECK(request_header_version(18, 3) == 2);   // ApiVersions: the request header is flexible...
  CHECK(response_header_version(18, 3) == 0);  // ...its response header never is
  CHECK(request_header_version(7, 0) == 0);    // ControlledShutdown v0: no client id
  CHECK(request_header_version(7, 3) == 2);
  CHECK(request_header_version(999, 0) == 1);  // an unknown key: the tags stay in the raw body
  CHECK(response_header_version(999, 0) == 0);
  // A pass-through API's boundary comes from its schema: JoinGroup is flexible from v6.
  CHECK(request_header_version(11, 5) == 1);
  CHECK(request_header_version(11, 6) == 2);
}

TEST_CASE("the API table names every key and says which are decoded") {
  CHECK(all_apis().size() == 88);
  CHECK(api_name(3) == "Metadata");
  CHECK(api_name(60) == "DescribeCluster");
  CHECK(api_name(-7) == "ApiKey(-7)");
  REQUIRE(find_api("FindCoordinatorRequest"));
  CHECK(find_api("FindCoordinatorRequest")->key == 10);
  CHECK(supported_versions(0) == version_range{0, 11});
  CHECK(supported_versions(1) == version_range{0, 17});
  CHECK(supported_versions(18) == version_range{0, 4});
  CHECK_FALSE(supported_versions(11).has_value());  // JoinGroup passes through
  int decoded = 0;
  for (const auto& a : all_apis()) decoded += a.full_codec;
  CHECK(decoded == 10);
}

TEST_CASE("request frames of header v1 and v2 decode and re-encode to the same bytes") {
  for (auto [version, header_version] : {std::pair{8, 1}, std::pair{9, 2}, std::pair{12, 2}}) {
    CAPTURE(version);
    const auto frame = metadata_frame(static_cast<std::int16_t>(version), header_version);
    const auto bytes_out = encode_request(frame);
    auto back = decode_request(bytes_out);
    REQUIRE_MESSAGE(back, back.error().message());
    CHECK(back.value().header_version == header_version);
    CHECK(back.value().header.client_id == "nodus-test");
    REQUIRE(std::holds_alternative<metadata_request>(back.value().body));
    CHECK(std::get<metadata_request>(back.value().body).topics.value().at(0).name == "orders");
    CHECK(encode_request(back.value()) == bytes_out);
  }
}

TEST_CASE("header v0 has no client id") {
  // ControlledShutdown v0 (passed through): key 7, version 0, correlation id 5, then the body.
  const auto frame = from_hex("000700000000000500000001");
  auto r = decode_request(frame);
  REQUIRE_MESSAGE(r, r.error().message());
  CHECK(r.value().header_version == 0);
  CHECK_FALSE(r.value().header.client_id.has_value());
  CHECK(std::get<raw_body>(r.value().body).data == from_hex("00000001"));
  CHECK(encode_request(r.value()) == frame);
}

TEST_CASE("strings and arrays switch to compact encodings at the first flexible version") {
  metadata_request m;
  m.topics = std::vector<metadata_request::metadata_request_topic>{{.name = std::string("a")}};
  // v8: int32 count, int16 length; AllowAutoTopicCreation, the two authorized-operations flags.
  CHECK(encoded(m, 8) == from_hex("00000001"
                                  "00016101"
                                  "0000"));
  // v9: varint count + 1, varint length + 1, a tag section after the topic and the body.
  CHECK(encoded(m, 9) == from_hex("02"
                                  "026100"
                                  "01000000"));
  // v10 adds the topic ID before the name, which becomes nullable.
  m.topics->at(0).name.reset();
  CHECK(encoded(m, 10) == from_hex("02"
                                   "00000000000000000000000000000000"
                                   "0000"
                                   "01000000"));
  // A null topic list means "all topics" from v1; v0 has no null, so it does not decode.
  m.topics.reset();
  CHECK(encoded(m, 1) == from_hex("ffffffff"));
  CHECK(metadata_request::decode(from_hex("ffffffff"), 1).value().topics == std::nullopt);
  auto v0 = metadata_request::decode(from_hex("ffffffff"), 0);
  REQUIRE_FALSE(v0);
  CHECK(v0.error().reason.find("Topics: null") != std::string::npos);
}

TEST_CASE("tagged fields: known ones decoded, unknown ones kept and written back in tag order") {
  // FetchRequest v12 with ClusterId (tag 0) and an unknown tag 5 in the body's tag section.
  fetch_request f;
  f.cluster_id = std::optional<std::string>("c1");
  f.unknown_tags = {{5, from_hex("abcd")}};
  const auto body = encoded(f, 12);
  auto back = fetch_request::decode(body, 12);
  REQUIRE_MESSAGE(back, back.error().message());
  CHECK(back.value().cluster_id == std::optional<std::string>("c1"));
  REQUIRE(back.value().unknown_tags.size() == 1);
  CHECK(back.value().unknown_tags[0].tag == 5);
  CHECK(back.value().unknown_tags[0].data == from_hex("abcd"));
  CHECK(encoded(back.value(), 12) == body);
  CHECK(back.value() == f);
  // The tag section ends the body: 2 fields, tag 0 (3 bytes: "c1" compact), tag 5 (2 bytes).
  CHECK(bytes(body.end() - 10, body.end()) == from_hex("02"
                                                       "0003036331"
                                                       "0502abcd"));
  const auto json = json::dump(back.value().to_json(12));
  CHECK(json.find(R"("_tagged":{"ClusterId":"c1"})") != std::string::npos);
  CHECK(json.find(R"("_unknown_tagged":[{"tag":5,"hex":"abcd"}])") != std::string::npos);
  // Before v12 there is no tag section: neither is written.
  auto v11 = fetch_request::decode(encoded(f, 11), 11).value();
  CHECK_FALSE(v11.cluster_id.has_value());
  CHECK(v11.unknown_tags.empty());
}

TEST_CASE("tags out of order, and a tagged value that does not fill its size, are refused") {
  fetch_request f;
  auto body = encoded(f, 12);
  body.back() = 0x02;  // the body's tag count: two unknown fields, tag 3 then tag 1
  for (auto b : from_hex("0300"
                         "0100"))
    body.push_back(b);
  auto r = fetch_request::decode(body, 12);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason.find("out of order") != std::string::npos);
  body = encoded(f, 12);
  body.back() = 0x01;
  for (auto b : from_hex("0004"
                         "03616200"))
    body.push_back(b);  // ClusterId "ab" and a stray byte
  r = fetch_request::decode(body, 12);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason.find("ClusterId: tagged field has 1 bytes") != std::string::npos);
}

TEST_CASE("topic IDs read and print as UUIDs") {
  metadata_request m;
  m.topics = std::vector<metadata_request::metadata_request_topic>{{}};
  for (std::uint8_t i = 0; i < 16; ++i) m.topics->at(0).topic_id.bytes[i] = static_cast<std::uint8_t>(i * 17);
  auto back = metadata_request::decode(encoded(m, 12), 12).value();
  CHECK(back.topics->at(0).topic_id == m.topics->at(0).topic_id);
  CHECK(back.topics->at(0).topic_id.to_string() == "00112233-4455-6677-8899-aabbccddeeff");
  CHECK(json::dump(back.to_json(12)).find(R"("TopicId":"00112233-4455-6677-8899-aabbccddeeff")") != std::string::npos);
}

TEST_CASE("a version newer than this library passes through with its header read") {
  // Produce v13 (Kafka 4.1+): flexible, so header v2 with its tag section, then the body.
  const auto frame = from_hex(
      "0000000d00000007000361626300"
      "0102030405");
  auto r = decode_request(frame);
  REQUIRE_MESSAGE(r, r.error().message());
  CHECK_FALSE(r.value().decoded());
  CHECK(r.value().header_version == 2);
  CHECK(r.value().header.client_id == "abc");
  CHECK(std::get<raw_body>(r.value().body).data == from_hex("0102030405"));
  CHECK(encode_request(r.value()) == frame);
}

TEST_CASE("every prefix of a frame fails to decode, saying which field and where") {
  const auto full = encode_request(metadata_frame(12, 2));
  for (std::size_t n = 0; n < full.size(); ++n) {
    CAPTURE(n);
    auto r = decode_request(byte_view(full).first(n));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::malformed);
    CHECK(r.error().reason.find("at offset") != std::string::npos);
  }
  // A response: the broker's host cut short.
  metadata_response m;
  m.brokers = {{.node_id = 1, .host = "broker-1.example", .port = 9092}};
  response_frame rf{.api_key = 3, .api_version = 12, .header_version = 1, .header = {.correlation_id = 9}, .body = m};
  const auto response = encode_response(rf);
  CHECK(decode_response(response, 3, 12).value() == rf);
  for (std::size_t n = 0; n < response.size(); ++n) CHECK_FALSE(decode_response(byte_view(response).first(n), 3, 12));
  // Offsets in a body's errors count from the body's start (here after a 5-byte header).
  auto cut = decode_response(byte_view(response).first(16), 3, 12);
  REQUIRE_FALSE(cut);
  CHECK(cut.error().reason == "MetadataResponse v12: Brokers[0].Host: truncated: 16 bytes needed, 1 left at offset 10");
}

TEST_CASE("every prefix of every golden frame decoded fully fails to decode") {
  std::string error;
  const auto doc = kafka_test::load_json(kafka_test::vectors_dir() + std::string("/tansu_client_frames.json"), error);
  REQUIRE(error.empty());
  int frames = 0;
  for (const auto& item : *doc.find("items")->as_array()) {
    const auto frame = from_hex(*item.find("frame_hex")->as_string());
    const auto body = byte_view(frame).subspan(4);
    const bool request = *item.find("kind")->as_string() == "request";
    const auto* api = find_api(*item.find("api")->as_string());
    const auto version = static_cast<std::int16_t>(item.find("api_version")->as_int().value());
    if (!api->full_codec) continue;
    ++frames;
    for (std::size_t n = 0; n < body.size(); ++n) {
      const bool decoded = request ? decode_request(body.first(n)).has_value()
                                   : decode_response(body.first(n), api->key, version).has_value();
      if (decoded) FAIL_CHECK(*item.find("test")->as_string() << " decodes from its first " << n << " bytes");
    }
  }
  CHECK(frames == 45);
}

TEST_CASE("huge counts and lengths are refused before anything is allocated") {
  // MetadataResponse v0: 2^31-1 brokers in 8 bytes.
  auto r = metadata_response::decode(from_hex("7fffffff00000000"), 0);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason.find("Brokers: array of 2147483647 elements is longer than what is left") !=
        std::string::npos);
  // v9: a compact count of 2^32-2.
  CHECK_FALSE(metadata_response::decode(from_hex("00000000"
                                                 "ffffffff0f"),
                                        9));
  // A string longer than the frame.
  r = metadata_response::decode(from_hex("00000001"
                                         "00000001"
                                         "7fff61"),
                                0);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason.find("Brokers[0].Host: truncated: 32767 bytes needed") != std::string::npos);
  // A varint longer than 32 bits.
  CHECK_FALSE(metadata_response::decode(from_hex("00000000"
                                                 "ffffffffff01"),
                                        9));
}

TEST_CASE("the memory a decoded frame may take is bounded by its size") {
  // 20 000 empty topics of a Metadata v9 request: two bytes each on the wire, 40 times that in
  // memory. Fine with the default limits, refused when the value may take only its own size.
  metadata_request m;
  m.topics = std::vector<metadata_request::metadata_request_topic>(20000);
  const auto frame = encoded(m, 9);
  CHECK(metadata_request::decode(frame, 9).has_value());
  auto r = metadata_request::decode(frame, 9, {.max_memory_factor = 1});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::too_large);
  // And a frame over the size limit is refused whole.
  auto big = decode_request(encode_request(metadata_frame(12, 2)), {.max_frame_size = 16});
  REQUIRE_FALSE(big);
  CHECK(big.error().code == errc::too_large);
}

TEST_CASE("a response to an API passed through keeps its body as bytes") {
  // JoinGroup v9 (flexible): header v1 with an empty tag section.
  const auto frame = from_hex(
      "0000002a00"
      "deadbeef");
  auto r = decode_response(frame, 11, 9);
  REQUIRE_MESSAGE(r, r.error().message());
  CHECK(r.value().header.correlation_id == 42);
  CHECK(std::get<raw_body>(r.value().body).data == from_hex("deadbeef"));
  CHECK(encode_response(r.value()) == frame);
  CHECK(with_size_prefix(frame) == from_hex("00000009"
                                            "0000002a00deadbeef"));
}
