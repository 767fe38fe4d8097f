#pragma once
/// Kafka frames as a portal sees them: a request or response header, then a body that is either
/// decoded (the APIs in `supported_versions`) or kept as bytes (every other API key, and versions
/// newer than this library knows). A frame here is the bytes after the 4-byte size.
///
/// Decoding is total and bounded: any bytes give a frame or a failure (`errc::malformed`, or
/// `errc::too_large` over `decode_limits`) whose reason names the message, version, field and
/// offset, e.g. `MetadataResponse v12: Brokers[0].Host: truncated: 9 bytes needed, 3 left at
/// offset 21` (a body's offsets count from the body's first byte, after the header). Encoding an
/// unchanged decoded frame gives back the same bytes.

#include <cstdint>
#include <optional>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/core/json.hpp"
#include "nodus/kafka/api.hpp"
#include "nodus/kafka/generated/messages.hpp"
#include "nodus/kafka/message_support.hpp"

namespace nodus::kafka {

/// The request header (RequestHeader.json, versions 0-2).
struct request_header {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  std::int32_t correlation_id = 0;
  /// Absent in header v0; never compact, even in v2.
  std::optional<std::string> client_id;
  /// Header v2's tagged fields (none is defined).
  unknown_tagged_fields unknown_tags;
  friend bool operator==(const request_header&, const request_header&) = default;
};

/// The response header (ResponseHeader.json, versions 0-1).
struct response_header {
  std::int32_t correlation_id = 0;
  /// Header v1's tagged fields (none is defined).
  unknown_tagged_fields unknown_tags;
  friend bool operator==(const response_header&, const response_header&) = default;
};

/// A request: its header and its body.
struct request_frame {
  request_header header;
  /// The header version the frame was read with (`request_header_version`).
  int header_version = 1;
  request_body body;
  /// True when the body is decoded (not a `raw_body`).
  bool decoded() const noexcept { return body.index() != 0; }
  friend bool operator==(const request_frame&, const request_frame&) = default;
};

/// A response: its header and body, and the API key and version of the request it answers
/// (which the frame itself does not carry).
struct response_frame {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  int header_version = 0;
  response_header header;
  response_body body;
  bool decoded() const noexcept { return body.index() != 0; }
  friend bool operator==(const response_frame&, const response_frame&) = default;
};

/// Reads a request (the bytes after its 4-byte size). An API key the schemas do not know is
/// read with header v1 (its tags, if any, stay in the raw body).
result_or_failure<request_frame> decode_request(byte_view frame, const decode_limits& limits = {});
/// Only the header, and where the body starts: cheaper than `decode_request` for a portal that
/// passes the frame on unchanged.
result_or_failure<std::pair<request_header, std::size_t>> decode_request_header(byte_view frame,
                                                                                const decode_limits& limits = {});
/// The frame's bytes (without the size), the same as decoded when unchanged.
nodus::bytes encode_request(const request_frame& frame);

/// Reads a response to a request of `api_key`, `api_version` (the bytes after its size).
result_or_failure<response_frame> decode_response(byte_view frame, std::int16_t api_key, std::int16_t api_version,
                                                  const decode_limits& limits = {});
/// The frame's bytes (without the size).
nodus::bytes encode_response(const response_frame& frame);

/// `frame` after its 4-byte big-endian size.
nodus::bytes with_size_prefix(byte_view frame);

/// Bodies alone, for (key, version): decoded when a full codec covers them, else raw.
result_or_failure<request_body> decode_request_body(std::int16_t api_key, std::int16_t api_version, byte_view body,
                                                    const decode_limits& limits = {});
/// As `decode_request_body`, for responses.
result_or_failure<response_body> decode_response_body(std::int16_t api_key, std::int16_t api_version, byte_view body,
                                                      const decode_limits& limits = {});
/// Appends a body as version `api_version` writes it.
void encode_body(const request_body& body, std::int16_t api_version, nodus::bytes& out);
/// Appends a body as version `api_version` writes it.
void encode_body(const response_body& body, std::int16_t api_version, nodus::bytes& out);

/// The frame as JSON: `{"header": {...}, "body": {...}}`, with the schema's field names.
json::value to_json(const request_frame& frame);
/// The frame as JSON, its header including the API it answers.
json::value to_json(const response_frame& frame);

}  // namespace nodus::kafka
