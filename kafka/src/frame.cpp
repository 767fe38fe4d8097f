#include "nodus/kafka/frame.hpp"

#include <fmt/format.h>

#include "message_visitors.hpp"

namespace nodus::kafka {
namespace {

using detail::decoder;
using detail::encoder;

// The headers are visited like the generated structs. ClientId is a nullable string that is
// never compact, even in header v2.
template <class V, class H>
void visit_request_header(V& v, H& h, int version) {
  v(h.api_key, field_info{"RequestApiKey", true, false, false});
  v(h.api_version, field_info{"RequestApiVersion", true, false, false});
  v(h.correlation_id, field_info{"CorrelationId", true, false, false});
  v(h.client_id, field_info{"ClientId", version >= 1, true, false});
  if (version < 2) return;
  v.tags_begin();
  v.tags_end(h.unknown_tags);
}

template <class V, class H>
void visit_response_header(V& v, H& h, int version) {
  v(h.correlation_id, field_info{"CorrelationId", true, false, false});
  if (version < 1) return;
  v.tags_begin();
  v.tags_end(h.unknown_tags);
}

result<> check_size(byte_view frame, const decode_limits& limits, const char* what, failure& f) {
  if (frame.size() <= limits.max_frame_size) return ok();
  f = failure{errc::too_large, fmt::format("{} frame of {} bytes is over the limit of {} bytes", what, frame.size(),
                                           limits.max_frame_size)};
  return errc::too_large;
}

failure header_failure(const decoder& d, const char* what) {
  return failure{d.error_code(), fmt::format("{} header: {}", what, d.error_text())};
}

}  // namespace

result_or_failure<std::pair<request_header, std::size_t>> decode_request_header(byte_view frame,
                                                                                const decode_limits& limits) {
  failure f;
  if (!check_size(frame, limits, "request", f)) return f;
  // The header's version depends on the key and version it starts with.
  request_header h;
  if (frame.size() >= 4) {
    h.api_key = static_cast<std::int16_t>((frame[0] << 8) | frame[1]);
    h.api_version = static_cast<std::int16_t>((frame[2] << 8) | frame[3]);
  }
  const int version = request_header_version(h.api_key, h.api_version);
  decoder d(frame, 0, limits);
  visit_request_header(d, h, version);
  if (!d.ok()) return header_failure(d, "request");
  return std::pair{std::move(h), d.offset()};
}

result_or_failure<request_frame> decode_request(byte_view frame, const decode_limits& limits) {
  auto header = decode_request_header(frame, limits);
  if (!header) return header.error();
  auto& [h, offset] = header.value();
  auto body = decode_request_body(h.api_key, h.api_version, frame.subspan(offset), limits);
  if (!body) return body.error();
  const int header_version = request_header_version(h.api_key, h.api_version);
  return request_frame{std::move(h), header_version, std::move(body).value()};
}

nodus::bytes encode_request(const request_frame& frame) {
  nodus::bytes out;
  encoder e(out, 0);
  visit_request_header(e, frame.header, frame.header_version);
  encode_body(frame.body, frame.header.api_version, out);
  return out;
}

result_or_failure<response_frame> decode_response(byte_view frame, std::int16_t api_key, std::int16_t api_version,
                                                  const decode_limits& limits) {
  failure f;
  if (!check_size(frame, limits, "response", f)) return f;
  response_frame r{api_key, api_version, response_header_version(api_key, api_version), {}, {}};
  decoder d(frame, 0, limits);
  visit_response_header(d, r.header, r.header_version);
  if (!d.ok()) return header_failure(d, "response");
  auto body = decode_response_body(api_key, api_version, frame.subspan(d.offset()), limits);
  if (!body) return body.error();
  r.body = std::move(body).value();
  return r;
}

nodus::bytes encode_response(const response_frame& frame) {
  nodus::bytes out;
  encoder e(out, 0);
  visit_response_header(e, frame.header, frame.header_version);
  encode_body(frame.body, frame.api_version, out);
  return out;
}

nodus::bytes with_size_prefix(byte_view frame) {
  nodus::bytes out;
  out.reserve(frame.size() + 4);
  const auto n = static_cast<std::uint32_t>(frame.size());
  for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(n >> shift));
  out.insert(out.end(), frame.begin(), frame.end());
  return out;
}

result_or_failure<request_body> decode_request_body(std::int16_t api_key, std::int16_t api_version, byte_view body,
                                                    const decode_limits& limits) {
  failure f;
  if (!check_size(body, limits, "request", f)) return f;
  return detail::decode_request_body(api_key, api_version, body, limits);
}

result_or_failure<response_body> decode_response_body(std::int16_t api_key, std::int16_t api_version, byte_view body,
                                                      const decode_limits& limits) {
  failure f;
  if (!check_size(body, limits, "response", f)) return f;
  return detail::decode_response_body(api_key, api_version, body, limits);
}

void encode_body(const request_body& body, std::int16_t api_version, nodus::bytes& out) {
  std::visit([&](const auto& b) { b.encode(out, api_version); }, body);
}

void encode_body(const response_body& body, std::int16_t api_version, nodus::bytes& out) {
  std::visit([&](const auto& b) { b.encode(out, api_version); }, body);
}

void raw_body::encode(nodus::bytes& out, std::int16_t) const { out.insert(out.end(), data.begin(), data.end()); }

json::value raw_body::to_json(std::int16_t) const { return json::object{{"raw_hex", detail::to_hex(data)}}; }

json::value to_json(const request_frame& frame) {
  json::object header;
  detail::json_builder b(header, 0);
  visit_request_header(b, frame.header, frame.header_version);
  header.emplace_back("header_version", frame.header_version);
  header.emplace_back("api", api_name(frame.header.api_key));
  header.emplace_back("decoded", frame.decoded());
  const auto body = std::visit([&](const auto& x) { return x.to_json(frame.header.api_version); }, frame.body);
  return json::object{{"header", std::move(header)}, {"body", body}};
}

json::value to_json(const response_frame& frame) {
  json::object header;
  detail::json_builder b(header, 0);
  visit_response_header(b, frame.header, frame.header_version);
  header.emplace_back("header_version", frame.header_version);
  header.emplace_back("api", api_name(frame.api_key));
  header.emplace_back("api_version", frame.api_version);
  header.emplace_back("decoded", frame.decoded());
  const auto body = std::visit([&](const auto& x) { return x.to_json(frame.api_version); }, frame.body);
  return json::object{{"header", std::move(header)}, {"body", body}};
}

}  // namespace nodus::kafka
