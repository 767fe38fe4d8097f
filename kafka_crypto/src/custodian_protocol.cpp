// The custodian's wire messages. Decoding walks the msgpack object field by field, so every
// field is checked for its type and size and nothing the peer sends decides an allocation
// beyond the (already bounded) message itself.
#include "nodus/kafka_crypto/custodian_protocol.hpp"

#include <algorithm>
#include <limits>

#include <msgpack.hpp>

#include "nodus/core/error.hpp"
#include "nodus/core/message_codec.hpp"

namespace nodus::kafka_crypto {
namespace {

using packer = msgpack::packer<detail::byte_writer>;
using object = msgpack::object;

constexpr std::size_t request_fields = 5;
constexpr std::size_t reply_fields = 5;
constexpr std::size_t key_fields = 9;

auto malformed(std::string what) { return fail(make_error_code(errc::malformed), std::move(what)); }

void pack_text(packer& p, std::string_view s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void pack_bin(packer& p, byte_view b) {
  p.pack_bin(static_cast<std::uint32_t>(b.size()));
  p.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
}

// The fields of an array of exactly `n` elements, or null.
const object* fields(const object& o, std::size_t n) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size != n) return nullptr;
  return o.via.array.ptr;
}

std::optional<std::uint64_t> unsigned_of(const object& o, std::uint64_t max) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > max) return std::nullopt;
  return o.via.u64;
}

std::optional<std::int64_t> signed_of(const object& o) {
  if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= std::numeric_limits<std::int64_t>::max())
    return static_cast<std::int64_t>(o.via.u64);
  if (o.type == msgpack::type::NEGATIVE_INTEGER) return o.via.i64;
  return std::nullopt;
}

std::optional<std::string> text_of(const object& o, std::size_t max) {
  if (o.type != msgpack::type::STR || o.via.str.size > max) return std::nullopt;
  return std::string(o.via.str.ptr, o.via.str.size);
}

std::optional<byte_view> bin_of(const object& o, std::size_t size) {
  if (o.type != msgpack::type::BIN || o.via.bin.size != size) return std::nullopt;
  return byte_view(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr), size);
}

// The version first, so a later version with other fields is told apart from garbage.
result_or_failure<const object*> message_fields(const object& o, std::size_t n, std::string_view what) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size == 0)
    return malformed(std::string(what) + " is not a msgpack array");
  auto version = unsigned_of(o.via.array.ptr[0], 255);
  if (!version) return malformed(std::string(what) + ": the version is not a small number");
  if (*version != custodian_protocol_version)
    return fail(make_error_code(errc::unsupported_version),
                std::string(what) + " of version " + std::to_string(*version) + ", this node speaks 1");
  const object* f = fields(o, n);
  if (!f)
    return malformed(std::string(what) + " has " + std::to_string(o.via.array.size) + " fields, not " +
                     std::to_string(n));
  return f;
}

result_or_failure<msgpack::object_handle> unpack(byte_view payload, std::string_view what) {
  if (payload.size() > max_custodian_message)
    return fail(make_error_code(errc::too_large), std::string(what) + " of " + std::to_string(payload.size()) +
                                                      " bytes, over the limit of " +
                                                      std::to_string(max_custodian_message));
  auto handle = detail::unpack_bounded(payload);
  if (!handle) return malformed(std::string(what) + " is not one msgpack value");
  return std::move(handle).value();
}

result_or_failure<data_key> decode_key(const object& o, std::chrono::milliseconds& age) {
  const object* f = fields(o, key_fields);
  if (!f) return malformed("the key is not an array of 9 fields");
  data_key k;
  auto name = bin_of(f[0], k.name.size());
  if (!name) return malformed("the key's name is not 16 bytes");
  std::copy(name->begin(), name->end(), k.name.begin());
  auto topic = text_of(f[1], max_topic_size);
  if (!topic || !valid_topic(*topic)) return malformed("the key's topic is not a Kafka topic name");
  k.topic = std::move(*topic);
  auto producer = text_of(f[2], max_identifier_size);
  if (!producer || producer->empty()) return malformed("the key's producer is not an identifier");
  k.producer = std::move(*producer);
  auto created = signed_of(f[3]);
  auto age_ms = signed_of(f[4]);
  // Bounded so that converting to the clock's nanoseconds cannot overflow (found by fuzzing).
  constexpr std::int64_t max_ms = 100ll * 365 * 24 * 3600 * 1000;  // a century: past any key's life
  constexpr std::int64_t latest_ms = 4102444800000;                // 2100-01-01
  if (!created || !age_ms || *age_ms < 0 || *age_ms > max_ms || *created < 0 || *created > latest_ms)
    return malformed("the key's creation time or age is not a number of milliseconds in range");
  k.created = std::chrono::system_clock::time_point(std::chrono::milliseconds(*created));
  age = std::chrono::milliseconds(*age_ms);
  constexpr std::uint64_t max_seconds = 100ull * 365 * 24 * 3600;
  auto rotation = unsigned_of(f[5], max_seconds), rekey = unsigned_of(f[6], max_seconds),
       validity = unsigned_of(f[7], max_seconds);
  if (!rotation || !rekey || !validity) return malformed("the key's timing is not three numbers of seconds");
  k.timing = {std::chrono::seconds(*rotation), std::chrono::seconds(*rekey), std::chrono::seconds(*validity)};
  if (auto problem = timing_problem(k.timing)) return malformed("the key's timing: " + *problem);
  auto material = bin_of(f[8], data_key_size);
  if (!material) return malformed("the key's material is not 32 bytes");
  k.material = vault::secret(*material);
  return k;
}

}  // namespace

bool valid_topic(std::string_view topic) noexcept {
  if (topic.empty() || topic.size() > max_topic_size) return false;
  return std::all_of(topic.begin(), topic.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

bytes encode(const custodian_request& r) {
  bytes out;
  detail::byte_writer writer{out};
  packer p(writer);
  p.pack_array(request_fields);
  p.pack(r.version);
  p.pack(static_cast<std::uint8_t>(r.op));
  p.pack(r.request_id);
  pack_text(p, r.topic);
  if (r.op == custodian_op::key_by_name)
    pack_bin(p, r.name);
  else
    p.pack_nil();
  return out;
}

result_or_failure<custodian_request> decode_custodian_request(byte_view payload) {
  auto handle = unpack(payload, "a custodian request");
  if (!handle) return std::move(handle).error();
  auto f = message_fields(handle.value().get(), request_fields, "a custodian request");
  if (!f) return std::move(f).error();
  const object* field = f.value();
  custodian_request r;
  auto op = unsigned_of(field[1], 255);
  if (!op || (*op != 1 && *op != 2)) return malformed("the request's op is not 1 or 2");
  r.op = static_cast<custodian_op>(*op);
  auto id = unsigned_of(field[2], std::numeric_limits<std::uint64_t>::max());
  if (!id) return malformed("the request id is not an unsigned number");
  r.request_id = *id;
  auto topic = text_of(field[3], max_topic_size);
  if (!topic) return malformed("the topic is not text of at most 249 bytes");
  r.topic = std::move(*topic);
  if (r.op == custodian_op::key_for_producing) {
    if (!valid_topic(r.topic)) return malformed("the topic is not a Kafka topic name ([A-Za-z0-9._-], 1 to 249)");
    if (field[4].type != msgpack::type::NIL) return malformed("a request for producing names no key");
    return r;
  }
  if (!r.topic.empty()) return malformed("a request by name has no topic");
  auto name = bin_of(field[4], r.name.size());
  if (!name) return malformed("the key name is not 16 bytes");
  std::copy(name->begin(), name->end(), r.name.begin());
  return r;
}

bytes encode(const custodian_reply& r) {
  bytes out;
  detail::byte_writer writer{out};
  packer p(writer);
  p.pack_array(reply_fields);
  p.pack(r.version);
  p.pack(r.request_id);
  p.pack(static_cast<std::uint8_t>(r.status));
  pack_text(p, std::string_view(r.reason).substr(0, max_reason_size));
  if (!r.key) {
    p.pack_nil();
    return out;
  }
  const data_key& k = *r.key;
  p.pack_array(key_fields);
  pack_bin(p, k.name);
  pack_text(p, k.topic);
  pack_text(p, k.producer);
  p.pack(static_cast<std::int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(k.created.time_since_epoch()).count()));
  p.pack(static_cast<std::int64_t>(r.age.count()));
  p.pack(static_cast<std::uint64_t>(k.timing.rotation.count()));
  p.pack(static_cast<std::uint64_t>(k.timing.rekey.count()));
  p.pack(static_cast<std::uint64_t>(k.timing.validity.count()));
  pack_bin(p, k.material.view());
  return out;
}

result_or_failure<custodian_reply> decode_custodian_reply(byte_view payload) {
  auto handle = unpack(payload, "a custodian reply");
  if (!handle) return std::move(handle).error();
  auto f = message_fields(handle.value().get(), reply_fields, "a custodian reply");
  if (!f) return std::move(f).error();
  const object* field = f.value();
  custodian_reply r;
  auto id = unsigned_of(field[1], std::numeric_limits<std::uint64_t>::max());
  if (!id) return malformed("the reply's request id is not an unsigned number");
  r.request_id = *id;
  auto status = unsigned_of(field[2], static_cast<std::uint64_t>(custodian_status::unavailable));
  if (!status) return malformed("the reply's status is not a known one");
  r.status = static_cast<custodian_status>(*status);
  auto reason = text_of(field[3], max_reason_size);
  if (!reason) return malformed("the reply's reason is not text of at most 1024 bytes");
  r.reason = std::move(*reason);
  const bool has_key = field[4].type != msgpack::type::NIL;
  if (has_key != (r.status == custodian_status::ok))
    return malformed(has_key ? "a refusal carries a key" : "an answer without a key says ok");
  if (!has_key) return r;
  auto key = decode_key(field[4], r.age);
  if (!key) return std::move(key).error();
  r.key = std::move(key).value();
  return r;
}

}  // namespace nodus::kafka_crypto
