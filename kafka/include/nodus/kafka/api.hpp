#pragma once
/// Kafka's API keys: names, the versions Apache Kafka's message definitions describe, which of
/// them this library decodes fully, and the header versions of any (key, version).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace nodus::kafka {

/// Versions `min` to `max`, both included.
struct version_range {
  std::int16_t min = 0;
  std::int16_t max = -1;
  bool contains(std::int16_t v) const noexcept { return v >= min && v <= max; }
  friend bool operator==(const version_range&, const version_range&) = default;
};

/// One API key, from its schema files (third_party/kafka/message).
struct api_info {
  std::int16_t key;
  std::string_view name;        ///< e.g. "Metadata"
  version_range valid;          ///< the schema's validVersions
  std::int16_t first_flexible;  ///< the first flexible version, -1 if none
  bool full_codec;              ///< bodies are decoded (else passed through as bytes)
};

/// Every API key in the schema files, by key.
std::span<const api_info> all_apis() noexcept;
/// The API with this key, or nullptr.
const api_info* find_api(std::int16_t key) noexcept;
/// The API with this name ("Metadata"; also "MetadataRequest" or "MetadataResponse"), or nullptr.
const api_info* find_api(std::string_view name) noexcept;
/// The name of the key, e.g. "Metadata", or "ApiKey(99)" for a key the schemas do not have.
std::string api_name(std::int16_t key);

/// The versions whose bodies this library decodes and re-encodes: what a portal can understand,
/// to intersect with a broker's ApiVersions. Nothing for an API passed through.
std::optional<version_range> supported_versions(std::int16_t key) noexcept;

/// Whether (key, version) uses flexible versions (compact strings, tagged fields). A version
/// past the schema's newest is flexible when the schema's flexible range is open ("9+"), as
/// Kafka's ranges are; an unknown key is taken as not flexible.
bool is_flexible(std::int16_t key, std::int16_t version) noexcept;

/// The request header version of (key, version): 2 when flexible, 1 otherwise, and 0 for
/// ControlledShutdown v0.
int request_header_version(std::int16_t key, std::int16_t version) noexcept;
/// The response header version: 1 when flexible, 0 otherwise, and always 0 for ApiVersions (a
/// client must read the answer before it knows which versions the broker speaks).
int response_header_version(std::int16_t key, std::int16_t version) noexcept;

}  // namespace nodus::kafka
